from django.urls import include, path

from oncall.views import ack, escalations

app_name = "oncall"

urlpatterns = [
    path("", include("oncall.urls_rota")),
    path("ack/<str:token>/", ack.ack, name="ack"),
    path("escalations/", escalations.escalation_list, name="escalations"),
    path("escalations/new/", escalations.escalation_raise_view, name="escalation_raise"),
    path("escalations/<int:pk>/", escalations.escalation_detail, name="escalation_detail"),
    path(
        "escalations/<int:pk>/acknowledge/",
        escalations.escalation_acknowledge_view,
        name="escalation_acknowledge",
    ),
    path("escalations/<int:pk>/resolve/", escalations.escalation_resolve_view, name="escalation_resolve"),
]
