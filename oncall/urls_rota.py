"""The rota pages' routes (included by oncall.urls, in the oncall namespace)."""

from django.urls import path

from oncall.views import rota

urlpatterns = [
    path("", rota.overview, name="overview"),
    path("rotas/new/", rota.rota_edit, name="rota_new"),
    path("rotas/<int:pk>/edit/", rota.rota_edit, name="rota_edit"),
    path("rotas/<int:pk>/overrides/", rota.override_new, name="override_new"),
    path("rotas/<int:pk>/notes/", rota.handoff_note_new, name="handoff_note_new"),
    path("overrides/<int:pk>/delete/", rota.override_delete_view, name="override_delete"),
]
