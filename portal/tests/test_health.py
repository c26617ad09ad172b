from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_q.models import OrmQ

from portal import __version__

TOKEN = "monitoring-token-for-tests"


@pytest.fixture
def monitoring(client, settings):
    """A client that reads /healthz?detail as the monitoring system does: HTTPS and the token."""
    settings.HEALTHZ_TOKEN = TOKEN
    client.defaults.update(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **{"wsgi.url_scheme": "https"})
    return client


@pytest.mark.django_db
def test_healthz_answers_the_probe_with_one_query_without_login(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"]["ok"] is True
    assert "queue" not in body and "intercom" not in body


@pytest.mark.django_db
def test_the_probe_over_plain_http_is_answered_not_redirected(
    client, settings, django_assert_max_num_queries
):
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Everything else, the detail included, still goes to HTTPS.
    assert client.get("/login/").status_code == 301
    settings.HEALTHZ_TOKEN = TOKEN
    detail = client.get("/healthz?detail", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert detail.status_code == 301 and detail["Location"] == "https://testserver/healthz?detail"


@pytest.mark.django_db
def test_healthz_detail_reports_database_queue_and_version_to_monitoring(monitoring):
    response = monitoring.get("/healthz?detail")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"]["ok"] is True
    assert body["queue"] == {"ok": True, "broker": "orm", "pending": 0, "oldest_pending_age_seconds": None}


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", ["", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_healthz_detail_is_refused_without_the_token(client, settings, authorization):
    settings.HEALTHZ_TOKEN = TOKEN
    response = client.get("/healthz?detail", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 403
    assert "queue" not in response.json()


@pytest.mark.django_db
def test_healthz_detail_without_a_configured_token_is_for_admins_only(
    client, settings, specialist, portal_admin
):
    settings.HEALTHZ_TOKEN = ""
    assert client.get("/healthz?detail", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    client.force_login(specialist)
    assert client.get("/healthz?detail").status_code == 403
    client.force_login(portal_admin)
    assert client.get("/healthz?detail").json()["queue"]["ok"] is True


@pytest.mark.django_db
def test_healthz_counts_pending_tasks_and_the_oldest_ones_age(monitoring, settings):
    now = timezone.now()
    key = settings.Q_CLUSTER["name"]
    OrmQ.objects.create(key=key, payload="a", lock=now - timedelta(seconds=90))
    OrmQ.objects.create(key=key, payload="b", lock=now - timedelta(seconds=5))
    # Claimed by a worker: its lock lies in the future, so it is not pending.
    OrmQ.objects.create(key=key, payload="c", lock=now + timedelta(seconds=60))

    queue = monitoring.get("/healthz?detail").json()["queue"]

    assert queue["pending"] == 2
    assert 90 <= queue["oldest_pending_age_seconds"] < 120


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_unreachable(client):
    with mock.patch("portal.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}


@pytest.mark.django_db
def test_healthz_is_never_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_the_intercom_outbox(monitoring, settings):
    settings.INTERCOM_ENABLED = False
    assert monitoring.get("/healthz?detail").json()["intercom"] == {
        "enabled": False,
        "pending": 0,
        "failed": 0,
        "dead": 0,
        "oldest_pending_age_seconds": None,
    }


@pytest.mark.django_db
def test_healthz_skips_the_outbox_when_the_database_is_unreachable(monitoring, settings):
    settings.INTERCOM_ENABLED = True
    with mock.patch("portal.health.connection.cursor", side_effect=OperationalError("down")):
        response = monitoring.get("/healthz?detail")
    assert response.status_code == 503
    assert response.json()["intercom"] == {"enabled": True}
