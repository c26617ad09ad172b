"""/metrics for Prometheus: request latency and every number of /healthz?detail (the task queue,
the Intercom outbox, webhook lag, SLA breaches, pages), for a token or an allowed network only."""

import ipaddress
import re

import pytest

from integrations.models import WebhookEvent

TOKEN = "scrape-token-for-tests"


def gauge(text: str, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)
    assert found, f"{name} is not in the metrics"
    return float(found.group(1))


@pytest.mark.django_db
def test_metrics_are_for_the_token_or_an_allowed_network_only(client, settings, portal_admin):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    client.force_login(portal_admin)
    assert client.get("/metrics").status_code == 403  # even an Admin's browser: it is for machines
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_metrics_carry_latency_and_the_programs_health(client, settings):
    from django.utils import timezone

    settings.METRICS_TOKEN = TOKEN
    WebhookEvent.objects.create(
        notification_id="n1", topic="conversation.user.created", payload={},
        received_at=timezone.now() - timezone.timedelta(seconds=90),
    )  # fmt: skip
    client.get("/login/")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert 'portal_request_seconds_count{status="2xx",view="login"}' in text
    assert gauge(text, "portal_up") == 1 and gauge(text, "portal_database_ok") == 1
    assert gauge(text, "portal_queue_pending") >= 0
    assert (
        gauge(text, "portal_webhooks_waiting") == 1
        and gauge(text, "portal_webhooks_oldest_waiting_age_seconds") >= 90
    )
    for name in (
        "portal_intercom_dead",
        "portal_sla_breached_now",
        "portal_pages_sent_total",
        "portal_pages_given_up",
    ):
        assert gauge(text, name) == 0


@pytest.mark.django_db
def test_the_detail_of_healthz_names_webhook_lag_sla_breaches_and_pages(client, settings):
    settings.HEALTHZ_TOKEN = TOKEN
    body = client.get("/healthz?detail", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", secure=True).json()
    assert body["webhooks"] == {"waiting": 0, "oldest_waiting_age_seconds": 0}
    assert body["sla"] == {"breached_now": 0}
    assert body["pages"] == {"sent_total": 0, "failing": 0, "given_up": 0}


def test_an_unreadable_allowed_network_stops_the_start_with_its_reason():
    import environ
    from django.core.exceptions import ImproperlyConfigured

    from portal.monitoring_settings import metrics_networks

    env = environ.Env()
    os_env = {"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.0/24"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in os_env.items():
            patch.setenv(name, value)
        assert [str(n) for n in metrics_networks(env)] == ["10.0.0.0/8", "192.168.1.0/24"]
        patch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, the office")
        with pytest.raises(ImproperlyConfigured, match=r"METRICS_ALLOWED_NETWORKS: .*the office"):
            metrics_networks(env)
