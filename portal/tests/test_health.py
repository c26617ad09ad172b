from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_q.models import OrmQ

from portal import __version__


@pytest.mark.django_db
def test_healthz_reports_database_queue_and_version_without_login(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"]["ok"] is True
    assert body["queue"] == {"ok": True, "broker": "orm", "pending": 0, "oldest_pending_age_seconds": None}


@pytest.mark.django_db
def test_healthz_counts_pending_tasks_and_the_oldest_ones_age(client, settings):
    now = timezone.now()
    key = settings.Q_CLUSTER["name"]
    OrmQ.objects.create(key=key, payload="a", lock=now - timedelta(seconds=90))
    OrmQ.objects.create(key=key, payload="b", lock=now - timedelta(seconds=5))
    # Claimed by a worker: its lock lies in the future, so it is not pending.
    OrmQ.objects.create(key=key, payload="c", lock=now + timedelta(seconds=60))

    queue = client.get("/healthz").json()["queue"]

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
def test_healthz_reports_the_intercom_outbox(client, settings):
    settings.INTERCOM_ENABLED = False
    assert client.get("/healthz").json()["intercom"] == {
        "enabled": False,
        "pending": 0,
        "failed": 0,
        "dead": 0,
        "oldest_pending_age_seconds": None,
    }


@pytest.mark.django_db
def test_healthz_skips_the_outbox_when_the_database_is_unreachable(client, settings):
    settings.INTERCOM_ENABLED = True
    with mock.patch("portal.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["intercom"] == {"enabled": True}
