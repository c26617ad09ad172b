"""The outbox sender against the fake Intercom: upserts, attributes, tags, notes, order per
contact, retries, dead jobs, 429 storms, and a worker killed in the middle of a batch."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from io import StringIO

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Tier
from accounts.services import account_update
from accounts.tests.factories import make_account
from integrations.intercom import sender as sender_module
from integrations.intercom.client import IntercomClient
from integrations.intercom.sender import drain
from integrations.models import IntercomAdmin, IntercomContact, RateBudget, SyncJob
from integrations.outbox import outbox_record
from integrations.ratelimit import SharedRateBudget
from integrations.tests.waiting import wait_until

Kind = SyncJob.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(intercom):
    """Intercom with the portal's attributes and tags created."""
    call_command("intercom_setup", stdout=StringIO())
    RateBudget.objects.all().delete()
    return intercom


def _client(sleeps=None):
    sleep = sleeps if sleeps is not None else (lambda s: None)
    return IntercomClient(sleep=sleep, budget=SharedRateBudget(sleep=time.sleep), backoff_base=0.01)


def _contact(fake, external_id):
    return next((c for c in fake.contacts() if c.get("external_id") == external_id), None)


def _age_jobs(**delta):
    """Make every waiting job due now, as if the retry time had come."""
    SyncJob.objects.filter(status__in=["failed", "running"]).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
        claimed_at=timezone.now() - sender_module.LEASE - dt.timedelta(seconds=1),
    )


def test_setup_is_idempotent_and_maps_teammates(intercom, specialist):
    out = StringIO()
    call_command("intercom_setup", stdout=out)
    assert "created  attribute advanced_tier" in out.getvalue()
    again = StringIO()
    call_command("intercom_setup", stdout=again)
    assert "created " not in again.getvalue() and "existed  attribute advanced_portal_url" in again.getvalue()
    assert IntercomAdmin.objects.count() == len(intercom.admin_ids)


def test_an_account_reaches_intercom_with_attributes_owner_and_tier_tag(ready, specialist):
    IntercomAdmin.objects.filter(intercom_id=ready.admin_ids[0]).update(portal_user=specialist)
    account = make_account(
        owner=specialist, external_id="acct-1", email="dana@example.com", display_name="Dana W"
    )
    report = drain(client=_client())
    assert report.delivered >= 1 and not report.errors, report.errors
    contact = _contact(ready, "acct-1")
    attributes = contact["custom_attributes"]
    assert attributes["advanced_tier"] == account.tier.name
    assert attributes["advanced_portal_url"].endswith(f"/accounts/{account.pk}/")
    assert contact["owner_id"] == str(ready.admin_ids[0])
    link = IntercomContact.objects.get(external_id="acct-1")
    assert link.intercom_id == contact["id"] and link.tier_tag_id
    assert not SyncJob.objects.exclude(status="done").exists()

    second = drain(client=_client())  # nothing changed: no call at all
    assert second.calls == 0 and second.delivered == 0


def test_a_tier_change_swaps_the_tag(ready, specialist):
    account = make_account(owner=specialist, external_id="acct-2", tier_rank=1)
    drain(client=_client())
    first_tag = IntercomContact.objects.get(external_id="acct-2").tier_tag_id
    account_update(account=account, by=specialist, changes={"tier": Tier.objects.get(rank=2)})
    drain(client=_client())
    link = IntercomContact.objects.get(external_id="acct-2")
    assert link.tier_tag_id != first_tag
    routes = ready.calls_by_route
    assert routes.get("DELETE /contacts/{contact_id}/tags/{tag_id}") == 1


def test_an_existing_contact_is_found_not_duplicated(ready, specialist):
    ready.add_contact(role="user", external_id="acct-3", email="old@example.com")
    make_account(owner=specialist, external_id="acct-3", email="new@example.com")
    drain(client=_client())
    matching = [c for c in ready.contacts() if c.get("external_id") == "acct-3"]
    assert len(matching) == 1 and matching[0]["email"] == "new@example.com"
    assert "POST /contacts" not in ready.calls_by_route


def test_notes_and_attributes_for_one_contact_go_in_order(ready, specialist):
    make_account(owner=specialist, external_id="acct-4")
    outbox_record(
        kind=Kind.CONTACT_ATTRIBUTES,
        key="account:x:disputes",
        payload={"external_id": "acct-4", "custom_attributes": {"advanced_open_disputes": 2}},
    )
    outbox_record(
        kind=Kind.CONTACT_NOTE,
        key="decision:1",
        payload={"external_id": "acct-4", "body": "DSP-1 decided: Denied."},
    )
    report = drain(client=_client())
    assert report.delivered == 3, report.errors
    methods = [(r.method, r.path) for r in ready.requests_log if "/contacts" in r.path]
    create_at = methods.index(("POST", "/contacts"))
    note_at = next(i for i, m in enumerate(methods) if m[0] == "POST" and m[1].endswith("/notes"))
    assert create_at < note_at
    assert _contact(ready, "acct-4")["custom_attributes"]["advanced_open_disputes"] == 2


def _comments(fake, conversation_id: str) -> list[dict]:
    parts = fake.get_conversation(conversation_id)["conversation_parts"]["conversation_parts"]
    return [p for p in parts if p["part_type"] == "comment" and p["author"]["type"] == "admin"]


def test_a_case_reply_reaches_the_users_conversation_once_as_their_specialist(ready, specialist):
    IntercomAdmin.objects.filter(intercom_id=ready.admin_ids[1]).update(portal_user=specialist)
    make_account(owner=specialist, external_id="acct-r", email=specialist.email + ".user")
    user = ready.add_contact(role="user", external_id="acct-r")
    conversation = ready.add_conversation(user["id"], "Why was my market resolved No?")
    payload = {
        "conversation_id": conversation["id"],
        "body": "Hi Dana,\n\nThe rules say <b>Chainlink</b> governs.\nRule 2 & 3.",
        "author_email": specialist.email,
        "external_id": "acct-r",
    }
    outbox_record(kind=Kind.CONVERSATION_REPLY, key="reply:1", payload=payload)
    report = drain(client=_client())
    assert not report.errors, report.errors
    [reply] = _comments(ready, conversation["id"])
    assert reply["author"]["id"] == str(ready.admin_ids[1])  # as the specialist's teammate
    assert (
        reply["body"]
        == "<p>Hi Dana,</p><p>The rules say &lt;b&gt;Chainlink&lt;/b&gt; governs.<br>Rule 2 &amp; 3.</p>"
    )

    # A worker that sent it and died before recording it: the retry finds it and sends nothing.
    SyncJob.objects.filter(key="reply:1").update(status="failed", attempts=1, last_delivered_hash="")
    _age_jobs()
    assert not drain(client=_client()).errors
    assert len(_comments(ready, conversation["id"])) == 1
    assert SyncJob.objects.get(key="reply:1").status == "done"


def test_a_reply_to_a_conversation_intercom_does_not_know_fails_visibly(ready, specialist):
    make_account(owner=specialist, external_id="acct-lost")
    outbox_record(
        kind=Kind.CONVERSATION_REPLY,
        key="reply:2",
        payload={
            "conversation_id": "999999",
            "body": "Hello",
            "author_email": "",
            "external_id": "acct-lost",
        },
    )
    report = drain(client=_client())
    job = SyncJob.objects.get(key="reply:2")
    assert job.status == "failed" and "conversation.reply reply:2" in report.errors[0]
    assert job.last_error and job.next_attempt_at is not None  # retried later, never dropped


def test_a_reply_to_another_users_conversation_is_refused_not_sent(ready, specialist):
    make_account(owner=specialist, external_id="acct-mine")
    someone_else = ready.add_contact(role="user", external_id="acct-other")
    conversation = ready.add_conversation(someone_else["id"], "Where is my withdrawal?")
    outbox_record(
        kind=Kind.CONVERSATION_REPLY,
        key="reply:3",
        payload={
            "conversation_id": conversation["id"],
            "body": "Your case",
            "author_email": "",
            "external_id": "acct-mine",
        },
    )
    report = drain(client=_client())
    assert "is not with this account's contact" in report.errors[0]
    assert _comments(ready, conversation["id"]) == []
    assert "POST /conversations/{conversation_id}/reply" not in ready.calls_by_route


def test_a_retry_from_the_sync_page_sends_neither_note_nor_reply_twice(ready, specialist):
    from integrations.services import sync_job_retry

    make_account(owner=specialist, external_id="acct-twice")
    user = ready.add_contact(role="user", external_id="acct-twice")
    conversation = ready.add_conversation(user["id"])
    outbox_record(
        kind=Kind.CONTACT_NOTE, key="decision:t", payload={"external_id": "acct-twice", "body": "Decided."}
    )
    outbox_record(
        kind=Kind.CONVERSATION_REPLY,
        key="reply:t",
        payload={
            "conversation_id": conversation["id"],
            "body": "Decided.",
            "author_email": "",
            "external_id": "acct-twice",
        },
    )
    assert not drain(client=_client()).errors
    # Both went out, then (say) the answers were lost and the jobs died: an Admin retries them.
    SyncJob.objects.filter(key__in=["decision:t", "reply:t"]).update(
        status="dead",
        last_error="Timed out",
        last_delivered_hash="",  # never recorded as delivered
    )
    for job in SyncJob.objects.filter(key__in=["decision:t", "reply:t"]):
        sync_job_retry(job=job, by=specialist)
    assert not drain(client=_client()).errors
    assert SyncJob.objects.filter(key__in=["decision:t", "reply:t"], status="done").count() == 2
    assert len(_comments(ready, conversation["id"])) == 1
    notes = requests.get(f"{ready.url}/contacts/{user['id']}/notes", headers=ready.headers(), timeout=5)
    assert len(notes.json()["data"]) == 1


def test_reply_html_keeps_paragraphs_and_escapes():
    assert sender_module.reply_html("a\r\n\r\n\r\nb\nc <x>") == "<p>a</p><p>b<br>c &lt;x&gt;</p>"
    assert sender_module.reply_html("  only  ") == "<p>only</p>"


def test_intercom_down_for_an_hour_loses_nothing_and_delivers_in_order(ready, specialist):
    accounts = [make_account(owner=specialist, external_id=f"down-{n}") for n in range(5)]
    for n, account in enumerate(accounts):
        outbox_record(
            kind=Kind.CONTACT_NOTE,
            key=f"decision:d{n}",
            payload={"external_id": account.external_id, "body": f"note {n}"},
        )
    ready.configure(down=True)
    for _ in range(6):  # an hour of retries, each made due at once
        report = drain(client=_client())
        assert report.delivered == 0
        _age_jobs()
    assert SyncJob.objects.filter(status="failed").count() == 10
    assert not SyncJob.objects.filter(status__in=["dead", "done"]).exists()
    ready.configure(down=False)
    report = drain(client=_client())
    assert report.delivered == 10, report.errors
    for account in accounts:
        contact = _contact(ready, account.external_id)
        notes = [
            r
            for r in ready.requests_log
            if r.method == "POST" and r.path == f"/contacts/{contact['id']}/notes"
        ]
        assert len(notes) == 1


def test_500s_are_retried_and_24_hours_of_failures_make_a_job_dead(ready, specialist):
    make_account(owner=specialist, external_id="dead-1")
    ready.configure(fail_rate=1.0)
    drain(client=_client())
    job = SyncJob.objects.get(key__startswith="account:")
    assert job.status == "failed" and job.next_attempt_at > timezone.now() and "500" in job.last_error
    SyncJob.objects.filter(pk=job.pk).update(failing_since=timezone.now() - dt.timedelta(hours=25))
    _age_jobs()
    drain(client=_client())
    job.refresh_from_db()
    assert job.status == "dead"  # kept, never dropped
    ready.configure(fail_rate=0.0)
    SyncJob.objects.filter(pk=job.pk).update(status="pending", next_attempt_at=None, failing_since=None)
    assert drain(client=_client()).delivered == 1


def test_a_storm_of_429s_is_waited_out_without_failures(ready, specialist):
    ready.configure(rate_limit=8, rate_window_seconds=1)
    RateBudget.objects.all().delete()
    for n in range(12):
        make_account(owner=specialist, external_id=f"storm-{n}")
    budget = SharedRateBudget(limit=1666, window_seconds=1)  # ours is far too generous: Intercom says no
    client = IntercomClient(budget=budget)
    report = drain(client=client, max_seconds=120)
    assert report.failed == 0 and report.dead == 0, report.errors
    assert report.delivered == 12
    assert all(_contact(ready, f"storm-{n}") for n in range(12))


def test_switched_off_keeps_jobs_pending(settings, specialist):
    settings.INTERCOM_ENABLED = False
    make_account(owner=specialist, external_id="off-1")
    report = drain()
    assert report.calls == 0 and "not connected" in report.errors[0]
    assert SyncJob.objects.filter(status="pending").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_intercom_right(intercom):
    """A real second process drains over the same database and is killed with SIGKILL while
    Intercom is slow; the next drain takes its jobs over: no duplicate contacts or notes."""
    from accounts.tests.factories import specialist_user

    call_command("setup_roles", verbosity=0)
    call_command("intercom_setup", stdout=StringIO())
    owner = specialist_user(username="killer-owner")
    count = 12
    for n in range(count):
        account = make_account(owner=owner, external_id=f"kill-{n}", volume_30d_usd=Decimal("1"))
        outbox_record(
            kind=Kind.CONTACT_NOTE,
            key=f"decision:k{n}",
            payload={"external_id": account.external_id, "body": f"note {n}"},
        )
    intercom.configure(latency_seconds=0.05)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DEBUG": "true",
        "INTERCOM_ACCESS_TOKEN": intercom.token,
        "INTERCOM_BASE_URL": intercom.url,
        "INTERCOM_ENABLED": "true",
        "DATABASE_URL": _database_url(),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "intercom_drain"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_until(
        lambda: intercom.call_count >= 15 or worker.poll() is not None,
        timeout=60,
        what="the worker to make 15 calls to Intercom",
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert intercom.call_count >= 15, worker.stderr.read().decode()[-2000:]
    assert (
        SyncJob.objects.filter(status="running").exists() or SyncJob.objects.exclude(status="done").exists()
    )

    intercom.configure(latency_seconds=0)
    _age_jobs()
    report = drain(client=_client())
    assert not report.errors, report.errors
    assert not SyncJob.objects.exclude(status="done").exists()
    externals = [c.get("external_id") for c in intercom.contacts()]
    assert sorted(e for e in externals if e and e.startswith("kill-")) == sorted(
        f"kill-{n}" for n in range(count)
    )
    for n in range(count):
        contact = _contact(intercom, f"kill-{n}")
        notes = requests.get(
            f"{intercom.url}/contacts/{contact['id']}/notes", headers=intercom.headers(), timeout=5
        )
        assert len(notes.json()["data"]) == 1, (n, notes.json())


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
