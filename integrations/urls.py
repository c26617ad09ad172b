from django.urls import path

from integrations import views
from integrations.intercom.webhooks import intercom_webhook

app_name = "integrations"
urlpatterns = [
    path("sync/", views.sync, name="sync"),
    path("sync/retry-all/", views.sync_retry_all, name="sync_retry_all"),
    path("sync/<int:pk>/retry/", views.sync_retry, name="sync_retry"),
    path("intercom/webhook/", intercom_webhook, name="intercom_webhook"),
]
