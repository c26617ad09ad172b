"""URLs of the CSV import, included by `accounts.urls` (namespace `accounts`, under /accounts/)."""

from django.urls import path

from accounts import views_import

urlpatterns = [
    path("import/", views_import.account_import_new, name="import"),
    path("import/example.csv", views_import.account_import_example, name="import_example"),
    path("import/<int:pk>/", views_import.account_import_detail, name="import_detail"),
]
