from django.urls import path

from reports import views, week_views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="report"),
    path("rows/<slug:key>/", views.rows, name="rows"),
    path("weeks/", week_views.weeks, name="weeks"),
    path("weeks/recipients/", week_views.recipient_add, name="week_recipient_add"),
    path("weeks/recipients/<int:pk>/remove/", week_views.recipient_remove, name="week_recipient_remove"),
    path("weeks/mails/<int:pk>/retry/", week_views.mail_retry_view, name="week_mail_retry"),
    path("weeks/<str:monday>/", week_views.week, name="week"),
    path("weeks/<str:monday>/recompute/", week_views.week_recompute, name="week_recompute"),
    path("weeks/<str:monday>/csv/", week_views.week_csv, name="week_csv"),
    path("weeks/<str:monday>/json/", week_views.week_json, name="week_json"),
]
