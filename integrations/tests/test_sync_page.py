"""The Intercom sync page, its retry buttons, the Admin banner, /healthz and the account's line."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account
from integrations import selectors, services
from integrations.models import SyncJob
from integrations.outbox import outbox_mark_delivered, outbox_record, payload_hash

Kind = SyncJob.Kind

pytestmark = pytest.mark.django_db

SYNC = reverse("integrations:sync")
DISCONNECTED = (
    "Intercom is not connected: changes are kept and will be sent once INTERCOM_ACCESS_TOKEN is set."
)


def make_job(*, kind=Kind.CONTACT_UPSERT, key="account:1", status="pending", age=None, **fields):
    payload = fields.pop("payload", {"key": key})
    job = SyncJob.objects.create(
        kind=kind, key=key, payload=payload, payload_hash=payload_hash(payload), status=status, **fields
    )
    if age is not None:
        SyncJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def make_dead(key="account:1", kind=Kind.CONTACT_UPSERT, error="HTTP 500 from Intercom", **fields):
    return make_job(
        kind=kind,
        key=key,
        status="dead",
        attempts=fields.pop("attempts", 12),
        failing_since=fields.pop("failing_since", timezone.now() - timedelta(hours=25)),
        last_error=error,
        **fields,
    )


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["specialist", "portal_admin"])
def test_specialists_and_admins_open_the_sync_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(SYNC)
    assert response.status_code == 200
    assert "Intercom sync" in response.content.decode()


@pytest.mark.parametrize("who", ["leader", "product_person"])
def test_leadership_and_product_are_refused(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(SYNC).status_code == 403
    assert client.post(reverse("integrations:sync_retry_all")).status_code == 403


@pytest.mark.parametrize(
    "url", [SYNC, reverse("integrations:sync_retry", args=[1]), reverse("integrations:sync_retry_all")]
)
def test_anonymous_visitor_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/login/"


def test_sync_appears_in_the_navigation_of_specialists_only_among_readers(client, specialist, leader):
    client.force_login(specialist)
    assert f'href="{SYNC}"' in client.get(reverse("home")).content.decode()
    client.force_login(leader)
    assert f'href="{SYNC}"' not in client.get(reverse("home")).content.decode()


# --- the overview ---------------------------------------------------------------------------


def test_overview_counts_statuses_and_the_oldest_waiting_change():
    make_job(key="account:1", age=timedelta(hours=3, minutes=12))
    make_job(key="account:2", status="running")
    make_job(key="account:3", status="failed", age=timedelta(hours=5), last_error="timeout")
    make_job(key="account:4", status="done")
    make_dead(key="account:5")

    overview = selectors.sync_overview()

    assert overview["counts"] == {"pending": 1, "running": 1, "failed": 1, "dead": 1}
    assert 5 * 3600 <= overview["oldest_pending_age_seconds"] < 5 * 3600 + 60
    assert overview["oldest_pending_age"] == "5 h"
    assert [j.key for j in overview["dead_jobs"]] == ["account:5"]


def test_overview_with_nothing_waiting_has_no_oldest_age():
    make_job(status="done")
    overview = selectors.sync_overview()
    assert overview["oldest_pending_age_seconds"] is None
    assert overview["oldest_pending_age"] == ""
    assert overview["last_error_by_kind"] == {}


def test_last_error_per_kind_is_the_newest_failed_or_dead_job_of_each_kind():
    old = make_dead(key="account:1", kind=Kind.CONTACT_UPSERT, error="old")
    make_job(key="account:2", kind=Kind.CONTACT_UPSERT, status="failed", last_error="newest upsert")
    make_dead(key="decision:1", kind=Kind.CONTACT_NOTE, error="note refused")
    make_job(key="account:3", kind=Kind.CONTACT_UPSERT, status="done", last_error="")
    SyncJob.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    errors = selectors.sync_overview()["last_error_by_kind"]

    assert {kind: error for kind, (error, _at) in errors.items()} == {
        Kind.CONTACT_NOTE: "note refused",
        Kind.CONTACT_UPSERT: "newest upsert",
    }


def test_sync_page_runs_a_fixed_number_of_queries_however_many_jobs(
    client, specialist, django_assert_max_num_queries
):
    make_dead(key="account:1")
    make_job(key="account:2", status="failed", last_error="boom")
    client.force_login(specialist)
    with django_assert_max_num_queries(12) as few:
        assert client.get(SYNC).status_code == 200
    for n in range(3, 80):
        make_dead(key=f"account:{n}", kind=f"kind.{n % 7}")
        make_job(key=f"account:{n}", status="pending")
        make_job(key=f"account:{n}", kind=Kind.CONTACT_ATTRIBUTES, status="failed", last_error=f"e{n}")
    with django_assert_max_num_queries(12) as many:
        response = client.get(SYNC)
    assert len(many.captured_queries) == len(few.captured_queries)
    text = response.content.decode()
    assert text.count('action="/integrations/sync/') == selectors.DEAD_LIST_LIMIT + 1  # rows + retry all
    assert "The newest 50 are shown" in text


def test_selectors_run_constant_queries(django_assert_num_queries):
    account = make_account()
    for n in range(20):
        make_dead(key=f"account:{n}")
        make_job(key=f"decision:{n}", kind=Kind.CONTACT_NOTE, contact_key=account.external_id, status="done")
    with django_assert_num_queries(3):
        selectors.sync_overview()
    with django_assert_num_queries(1):
        selectors.account_sync_state(account)
    with django_assert_num_queries(1):
        assert selectors.dead_job_count() == 20


def test_page_shows_counts_age_errors_and_dead_jobs(client, specialist):
    make_job(key="account:1", age=timedelta(minutes=42))
    make_dead(key="account:7", error="HTTP 422: custom attribute advanced_tier does not exist " + "x" * 200)
    client.force_login(specialist)

    text = client.get(SYNC).content.decode()

    assert 'data-testid="count-pending">1<' in text
    assert 'data-testid="count-dead">1<' in text
    assert "recorded 42 min ago" in text
    assert "account:7" in text
    assert "HTTP 422: custom attribute advanced_tier does not exist" in text
    assert "x" * 150 not in text.split("<tbody>")[-1].split("title=")[0]
    assert reverse("integrations:sync_retry_all") in text


def test_page_warns_when_intercom_is_not_connected_and_still_counts(client, specialist, settings):
    settings.INTERCOM_ENABLED = False
    make_job()
    client.force_login(specialist)
    text = client.get(SYNC).content.decode()
    assert DISCONNECTED in text
    assert 'data-testid="count-pending">1<' in text


def test_no_warning_when_intercom_is_connected(client, specialist, settings):
    settings.INTERCOM_ENABLED = True
    client.force_login(specialist)
    assert DISCONNECTED not in client.get(SYNC).content.decode()


def test_human_duration():
    assert selectors.human_duration(None) == ""
    assert selectors.human_duration(45) == "45 s"
    assert selectors.human_duration(12 * 60 + 5) == "12 min"
    assert selectors.human_duration(3 * 3600 + 12 * 60) == "3 h 12 min"
    assert selectors.human_duration(2 * 86400 + 4 * 3600 + 60) == "2 d 4 h"


# --- retry ----------------------------------------------------------------------------------


def test_retry_sets_a_dead_job_back_to_pending_with_a_fresh_budget(client, specialist):
    job = make_dead()
    client.force_login(specialist)

    response = client.post(reverse("integrations:sync_retry", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.status == "pending"
    assert job.attempts == 0
    assert job.failing_since is None
    assert job.claimed_at is None
    assert abs((job.next_attempt_at - timezone.now()).total_seconds()) < 60
    assert job.last_error == "Retried by spec: HTTP 500 from Intercom"
    assert response.redirect_chain[-1][0] == SYNC
    assert "will be sent again" in response.content.decode()


def test_retry_with_a_newer_pending_change_closes_the_dead_one_as_superseded(client, portal_admin):
    dead = make_dead(key="account:9")
    newer = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:9", payload={"tier": "Tier 1"})
    client.force_login(portal_admin)

    response = client.post(reverse("integrations:sync_retry", args=[dead.pk]), follow=True)

    dead.refresh_from_db()
    newer.refresh_from_db()
    assert dead.status == "done"
    assert dead.last_error.startswith(f"Superseded by a newer change (job {newer.pk}); Retried by padmin: ")
    assert newer.status == "pending"
    assert SyncJob.objects.filter(status="pending", key="account:9").count() == 1
    assert "A newer change for this contact is already waiting; it carries the latest data." in (
        response.content.decode()
    )


def test_superseded_job_keeps_the_outbox_comparing_against_what_intercom_really_has(portal_admin):
    """X delivered, Y died, Z delivered: closing Y must not make the outbox think Intercom has X."""
    x = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:3", payload={"v": "X"})
    outbox_mark_delivered(x)
    y = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:3", payload={"v": "Y"})
    SyncJob.objects.filter(pk=y.pk).update(status="dead", last_error="boom")
    z = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:3", payload={"v": "Z"})
    outbox_mark_delivered(z)

    result = services.sync_job_retry(job=y, by=portal_admin)

    assert result.outcome == services.SUPERSEDED
    assert result.job.status == "done"
    assert result.job.last_delivered_hash == payload_hash({"v": "Z"})
    # Going back to X is a change Intercom must learn about.
    assert outbox_record(kind=Kind.CONTACT_UPSERT, key="account:3", payload={"v": "X"}) is not None


def test_retrying_a_job_that_is_no_longer_dead_changes_nothing(client, specialist):
    job = make_job(status="pending")
    client.force_login(specialist)
    response = client.post(reverse("integrations:sync_retry", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == "pending"
    assert "no longer waiting for a retry" in response.content.decode()


def test_retry_of_an_unknown_job_is_404(client, specialist):
    client.force_login(specialist)
    assert client.post(reverse("integrations:sync_retry", args=[987654])).status_code == 404


def test_retry_endpoints_refuse_get(client, specialist):
    job = make_dead()
    client.force_login(specialist)
    assert client.get(reverse("integrations:sync_retry", args=[job.pk])).status_code == 405
    assert client.get(reverse("integrations:sync_retry_all")).status_code == 405
    job.refresh_from_db()
    assert job.status == "dead"


def test_retry_all_retries_every_dead_job_and_closes_superseded_ones(
    client, specialist, django_assert_max_num_queries
):
    plain = [make_dead(key=f"account:{n}") for n in range(1, 4)]
    older = make_dead(key="account:8")
    newer_dead = make_dead(key="account:8")
    superseded = make_dead(key="account:9")
    pending = make_job(key="account:9", status="pending")
    untouched = make_job(key="account:10", status="failed", last_error="timeout")
    client.force_login(specialist)

    with django_assert_max_num_queries(20):
        response = client.post(reverse("integrations:sync_retry_all"), follow=True)

    status = dict(SyncJob.objects.values_list("pk", "status"))
    assert [status[j.pk] for j in plain] == ["pending"] * 3
    assert status[newer_dead.pk] == "pending"
    assert status[older.pk] == "done"
    assert status[superseded.pk] == "done"
    assert status[pending.pk] == "pending"
    assert status[untouched.pk] == "failed"
    assert SyncJob.objects.get(pk=plain[0].pk).attempts == 0
    assert SyncJob.objects.get(pk=superseded.pk).last_error.startswith("Superseded by a newer change")
    assert "4 changes will be sent again. 2 had a newer change" in response.content.decode()


def test_retry_all_with_nothing_dead(client, portal_admin):
    client.force_login(portal_admin)
    response = client.post(reverse("integrations:sync_retry_all"), follow=True)
    assert "No changes were waiting for a retry." in response.content.decode()


# --- the Admin banner -------------------------------------------------------------------------

BANNER = "could not be delivered after 24 hours of retries"


def test_admins_see_the_dead_job_banner_on_every_page(client, portal_admin, settings):
    settings.INTERCOM_ENABLED = True
    make_dead(key="account:1")
    make_dead(key="account:2")
    client.force_login(portal_admin)
    for url in (reverse("home"), reverse("search"), reverse("accounts:list")):
        text = client.get(url).content.decode()
        assert f"2 Intercom changes {BANNER}" in text, url
        assert f'<a href="{SYNC}">Review them</a>' in text


def test_specialists_never_see_the_banner_and_pay_no_query_for_it(client, specialist, settings):
    settings.INTERCOM_ENABLED = True
    make_dead()
    client.force_login(specialist)
    with CaptureQueriesContext(connection) as queries:
        text = client.get(reverse("home")).content.decode()
    assert BANNER not in text
    # The banner's own question is a COUNT of the outbox; My day's reply panel may join the outbox
    # for the specialist's own cases, which is work for them, not the Admin banner.
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "integrations_syncjob"')
    ]


def test_no_banner_without_dead_jobs(client, portal_admin, settings):
    settings.INTERCOM_ENABLED = True
    make_job(status="failed")
    client.force_login(portal_admin)
    text = client.get(reverse("home")).content.decode()
    assert BANNER not in text
    assert 'data-testid="intercom-banner"' not in text


def test_admins_see_that_intercom_is_not_connected(client, portal_admin, specialist, settings):
    settings.INTERCOM_ENABLED = False
    client.force_login(portal_admin)
    assert "Intercom is not connected." in client.get(reverse("home")).content.decode()
    client.force_login(specialist)
    assert "Intercom is not connected." not in client.get(reverse("home")).content.decode()


# --- /healthz ---------------------------------------------------------------------------------


def health_detail(client, settings) -> dict:
    """/healthz?detail as monitoring reads it: over HTTPS with the token."""
    settings.HEALTHZ_TOKEN = "monitoring-token"
    return client.get("/healthz?detail", HTTP_AUTHORIZATION="Bearer monitoring-token", secure=True).json()


def test_healthz_reports_the_outbox(client, settings):
    settings.INTERCOM_ENABLED = True
    make_job(key="account:1", age=timedelta(seconds=90))
    make_job(key="account:2", status="failed")
    make_dead(key="account:3")
    make_job(key="account:4", status="done")

    intercom = health_detail(client, settings)["intercom"]

    assert intercom["enabled"] is True
    assert (intercom["pending"], intercom["failed"], intercom["dead"]) == (1, 1, 1)
    assert 90 <= intercom["oldest_pending_age_seconds"] < 120


def test_healthz_outbox_when_empty_and_disconnected(client, settings):
    settings.INTERCOM_ENABLED = False
    assert health_detail(client, settings)["intercom"] == {
        "enabled": False,
        "pending": 0,
        "failed": 0,
        "dead": 0,
        "oldest_pending_age_seconds": None,
    }


# --- the account's own state ------------------------------------------------------------------


def fresh_account(**fields):
    """An account whose creation's own outbox job is gone, as if nothing was ever recorded."""
    account = make_account(**fields)
    SyncJob.objects.all().delete()
    return account


def test_account_state_never_synced():
    state = selectors.account_sync_state(fresh_account())
    assert state["state"] == "never"
    assert state["pending"] == 0
    assert state["last_delivered_at"] is None


def test_account_state_follows_the_newest_job_of_each_kind_and_key():
    account = fresh_account()
    own, disputes = f"account:{account.pk}", f"account:{account.pk}:disputes"
    make_dead(key=own, error="old failure")  # superseded by the delivered job below
    delivered = make_job(key=own, status="done")
    make_job(key=disputes, kind=Kind.CONTACT_ATTRIBUTES, status="done")
    make_job(key="decision:1", kind=Kind.CONTACT_NOTE, contact_key=account.external_id, status="done")
    make_dead(key=f"account:{account.pk + 1000}")  # someone else's

    state = selectors.account_sync_state(account)
    assert state["state"] == "in_sync"
    assert state["last_delivered_at"] is not None
    assert state["last_delivered_at"] >= delivered.updated_at

    make_job(key=disputes, kind=Kind.CONTACT_ATTRIBUTES, status="failed", last_error="rate limited")
    state = selectors.account_sync_state(account)
    assert (state["state"], state["pending"], state["last_error"]) == ("waiting", 1, "rate limited")

    make_dead(key="decision:2", kind=Kind.CONTACT_NOTE, contact_key=account.external_id, error="note refused")
    state = selectors.account_sync_state(account)
    assert (state["state"], state["last_error"]) == ("dead", "note refused")


def test_account_page_shows_its_sync_state(client, specialist, settings):
    settings.INTERCOM_ENABLED = True
    account = fresh_account(owner=specialist)
    client.force_login(specialist)
    url = reverse("accounts:detail", args=[account.pk])
    assert "Never synced" in client.get(url).content.decode()

    job = make_job(key=f"account:{account.pk}")
    assert "Waiting (1)" in client.get(url).content.decode()

    outbox_mark_delivered(job)
    text = client.get(url).content.decode()
    assert "In sync" in text
    assert "last delivered" in text

    make_dead(
        key=f"account:{account.pk}:disputes", kind=Kind.CONTACT_ATTRIBUTES, error="HTTP 404 contact gone"
    )
    text = client.get(url).content.decode()
    assert "Failed" in text
    assert "HTTP 404 contact gone" in text


def test_account_page_says_not_connected_when_intercom_is_off(client, specialist, settings):
    settings.INTERCOM_ENABLED = False
    account = fresh_account(owner=specialist)
    make_job(key=f"account:{account.pk}")
    client.force_login(specialist)
    text = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Not connected" in text
    assert "1 change kept" in text


def test_retry_all_falls_back_to_one_by_one_when_a_change_arrives_meanwhile(portal_admin, monkeypatch):
    first = make_dead(key="account:1")
    second = make_dead(key="account:2")
    real_supersede = services._supersede
    calls = []

    def supersede_racing_once(jobs, **kwargs):
        if not calls:
            calls.append(1)
            raise IntegrityError("syncjob_one_pending_per_object")
        return real_supersede(jobs, **kwargs)

    monkeypatch.setattr(services, "_supersede", supersede_racing_once)

    assert services.sync_jobs_retry_dead(by=portal_admin) == {"retried": 2, "superseded": 0}
    assert set(SyncJob.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        "pending"
    }
