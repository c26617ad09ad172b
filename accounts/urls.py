from django.urls import path

from accounts import urls_import, views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_new, name="new"),
    path("reassign/", views.accounts_reassign, name="reassign"),
    path("reassign/portfolio/", views.portfolio_reassign, name="reassign_portfolio"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/check-ins/", views.check_in_new, name="check_in_new"),
    path("<int:pk>/snooze/", views.account_snooze, name="snooze"),
    path("<int:pk>/wallets/", views.wallet_new, name="wallet_new"),
    path("<int:pk>/wallets/<int:wallet_pk>/remove/", views.wallet_remove, name="wallet_remove"),
    path("check-ins/<int:pk>/edit/", views.check_in_edit, name="check_in_edit"),
    path("check-ins/<int:pk>/delete/", views.check_in_delete, name="check_in_delete"),
    path("check-ins/<int:pk>/follow-up-done/", views.follow_up_done, name="follow_up_done"),
    *urls_import.urlpatterns,
]
