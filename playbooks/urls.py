from django.urls import path

from playbooks import views

app_name = "playbooks"
# Fixed paths first: a playbook slug can never be one of them (the service refuses those slugs).
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_new, name="new"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:pk>/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/history/", views.template_history, name="template_history"),
    path(
        "templates/<int:pk>/revert/<int:number>/",
        views.revision_revert,
        {"kind": "template"},
        name="template_revert",
    ),
    path("<slug:slug>/", views.playbook_detail, name="detail"),
    path("<slug:slug>/edit/", views.playbook_edit, name="edit"),
    path("<slug:slug>/history/", views.playbook_history, name="history"),
    path("<slug:slug>/diff/", views.playbook_diff, name="diff"),
    path("<slug:slug>/revert/<int:number>/", views.revision_revert, {"kind": "playbook"}, name="revert"),
    path("<slug:slug>/status/", views.playbook_status, name="status"),
]
