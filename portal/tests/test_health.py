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
def test_healthz_detail_counts_once_per_period_however_many_monitors_ask(
    monitoring, settings, django_assert_max_num_queries
):
    from django.core.cache import cache

    from portal.health import COUNTS_CACHE_KEY

    cache.delete(COUNTS_CACHE_KEY)
    settings.HEALTHZ_DETAIL_CACHE_SECONDS = 10
    first = monitoring.get("/healthz?detail").json()
    OrmQ.objects.create(key=settings.Q_CLUSTER["name"], payload="x", lock=timezone.now())
    with django_assert_max_num_queries(1):  # the database check; the counts come from the cache
        again = monitoring.get("/healthz?detail").json()
    assert again["queue"]["pending"] == first["queue"]["pending"] == 0
    assert again["counted_at"] == first["counted_at"]
    cache.delete(COUNTS_CACHE_KEY)  # the period is over
    assert monitoring.get("/healthz?detail").json()["queue"]["pending"] == 1
    cache.delete(COUNTS_CACHE_KEY)


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


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free, and nothing listens once it is closed


@pytest.fixture
def redis_broker(settings, monkeypatch):
    """The task broker is Redis (on a port where nothing listens unless a test says otherwise)."""
    from portal import health

    settings.Q_CLUSTER = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"} | {
        "redis": f"redis://127.0.0.1:{closed_port()}/0"
    }
    monkeypatch.setattr(health, "_redis", None)
    return health


@pytest.mark.django_db
def test_the_probe_answers_503_when_redis_is_down_and_200_when_it_answers(client, redis_broker, monkeypatch):
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json()["broker"] == {"ok": False, "broker": "redis", "error": "ConnectionError"}

    class Answering:
        def ping(self):
            return True

    monkeypatch.setattr(redis_broker, "_redis", Answering())
    up = client.get("/healthz")
    assert up.status_code == 200 and up.json()["broker"]["ok"] is True


@pytest.mark.django_db
def test_ready_is_answered_over_plain_http_when_migrated_with_the_cache_answering(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["migrations"]["ok"] is True  # read once, then remembered
    assert (
        body["cache"] == {"ok": True}
        and body["database"]["ok"]
        and body["broker"] == {"ok": True, "broker": "orm"}
    )


@pytest.mark.django_db
def test_ready_is_503_until_every_migration_is_applied(client, monkeypatch):
    from portal import health

    monkeypatch.setattr(health, "_migrated", False)
    with mock.patch(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        return_value=[("reports", "0007_next")],
    ):
        response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["migrations"] == {"ok": False, "unapplied": 1}
    assert response.json()["status"] == "not ready"
    assert client.get("/healthz/ready").status_code == 200  # applied now: ready


@pytest.mark.django_db
def test_ready_is_503_when_the_database_or_the_cache_fails(client, monkeypatch):
    from portal import health

    monkeypatch.setattr(health, "_migrated", False)
    with mock.patch("portal.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz/ready")
    assert response.status_code == 503 and response.json()["migrations"] == {"ok": False}
    with mock.patch("django.core.cache.cache.set", side_effect=ConnectionError("cache down")):
        response = client.get("/healthz/ready")
    assert response.status_code == 503 and response.json()["cache"] == {
        "ok": False,
        "error": "ConnectionError",
    }
