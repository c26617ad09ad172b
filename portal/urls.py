from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("me/preferences/", views.preferences, name="preferences"),
    path("me/hours/", views.working_hours, name="working_hours"),
    path("me/away/", views.away, name="away"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/ready", views.healthz_ready, name="healthz_ready"),
    path("metrics", views.metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("disputes/", include("disputes.urls")),
    path("playbooks/", include("playbooks.urls")),
    path("feedback/", include("feedback.urls")),
    path("support/", include("support.urls")),
    path("oncall/", include("oncall.urls")),
    path("reports/", include("reports.urls")),
    path("integrations/", include("integrations.urls")),
    path("admin/", admin.site.urls),
    *auth_patterns,
]
