"""The reconciliation import: paging through the search, linking, the watermark (moved only past
what was stored), resuming after a crash, bad items, the command and the scheduled task."""

import datetime as dt
import io
import itertools
from importlib import import_module

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.tests.factories import make_account
from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import IntercomUnavailable
from integrations.models import IntercomAdmin
from portal.schedules import SCHEDULES
from portal.tests.factories import UserFactory
from support import importing, tasks
from support.importing import (
    OVERLAP,
    WATERMARK,
    ImportReport,
    PageLookups,
    conversations_import,
    watermark_since,
)
from support.models import Conversation, ImportWatermark, SlaClock
from support.services import _account_for, _assignee_for, conversation_sync, parse_conversation

pytestmark = pytest.mark.django_db

T0 = int(dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC).timestamp())
SINCE = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
_people = itertools.count(1)


def at(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def client() -> IntercomClient:
    return IntercomClient(sleep=lambda seconds: None)  # retries without waiting


def run(**kwargs) -> ImportReport:
    kwargs.setdefault("since", SINCE)
    with client() as c:
        return conversations_import(client=c, **kwargs)


def seed(fake, count: int, *, contact=None, start: int = T0, step: int = 60, descending: bool = False):
    """`count` conversations of one contact; updated_at goes up with the id (or down)."""
    contact = contact or fake.add_contact(role="user", email=f"someone{next(_people)}@example.com")
    made = []
    for n in range(count):
        updated = start + (count - 1 - n if descending else n) * step
        made.append(
            fake.add_conversation(contact["id"], f"Question {n}", created_at=updated - 30, updated_at=updated)
        )
    return made


def mirror() -> dict:
    return {
        row["intercom_id"]: row
        for row in Conversation.objects.values(
            "intercom_id", "account_id", "assignee_id", "state", "title", "updated_at_intercom"
        )
    }


# --- paging, storing, linking ------------------------------------------------------------------


def test_import_pages_through_the_search_and_stores_every_conversation(intercom):
    made = seed(intercom, 7)
    seen = []

    report = run(per_page=3, progress=lambda r: seen.append((r.pages, r.fetched, r.stored)))

    assert (report.fetched, report.stored, report.unchanged, report.older_skipped, report.failed) == (
        7,
        0 + 7,
        0,
        0,
        0,
    )
    assert (report.pages, report.calls, report.total) == (3, 3, 7)
    assert seen == [(1, 3, 3), (2, 6, 6), (3, 7, 7)]
    assert set(mirror()) == {c["id"] for c in made}
    assert {r.last_source for r in Conversation.objects.all()} == {"import"}
    searches = [r for r in intercom.requests_log if r.path.startswith("/conversations/search")]
    assert len(searches) == 3
    query = searches[0].body["query"]
    assert query == {"field": "updated_at", "operator": ">", "value": int((SINCE - OVERLAP).timestamp())}
    assert searches[0].body["pagination"] == {"per_page": 3}
    assert "starting_after" in searches[1].body["pagination"]


def test_only_conversations_updated_since_the_start_less_the_overlap_are_read(intercom):
    since = at(T0)
    inside = seed(intercom, 1, start=T0 - 5 * 60)  # in the 10-minute overlap
    seed(intercom, 1, start=T0 - 20 * 60)  # before it

    report = run(since=since)

    assert report.fetched == 1
    assert set(mirror()) == {inside[0]["id"]}


def test_links_accounts_and_assignees_exactly_as_conversation_sync_does(intercom):
    by_external_id = make_account(external_id="user-1", email="one@example.com")
    by_email = make_account(external_id="user-2", email="Two@Example.com")
    by_email_too = make_account(external_id="user-3", email="three@example.com")
    user = UserFactory(username="ada")
    IntercomAdmin.objects.create(
        intercom_id="991267002",
        name="Ada",
        email="ada@example.com",
        portal_user=user,
        synced_at=timezone.now(),
    )
    IntercomAdmin.objects.create(intercom_id="991267003", name="Grace", synced_at=timezone.now())
    contacts = [
        intercom.add_contact(role="user", external_id="user-1", email="elsewhere@example.com"),
        intercom.add_contact(role="user", email="two@example.com"),  # e-mail only, other case
        intercom.add_contact(role="user", external_id="user-unknown", email="THREE@example.COM"),
        intercom.add_contact(role="lead", email="visitor@example.com"),  # no account
    ]
    for n, contact in enumerate(contacts):
        for admin in (0, 991267002, 991267003):
            intercom.add_conversation(
                contact["id"], created_at=T0 + n, updated_at=T0 + n, admin_assignee_id=admin
            )

    report = run()

    assert report.stored == 12
    rows = Conversation.objects.all()
    for row in rows:
        data = intercom.get_conversation(row.intercom_id)
        fields = parse_conversation(data)
        expected_account = _account_for(fields)
        assert row.account_id == (expected_account.pk if expected_account else None)
        expected_user = _assignee_for(fields["admin_assignee_id"])
        assert row.assignee_id == (expected_user.pk if expected_user else None)
    assert {r.account_id for r in rows} == {by_external_id.pk, by_email.pk, by_email_too.pk, None}
    assert {r.assignee_id for r in rows} == {user.pk, None}
    by_external_id.refresh_from_db()
    assert by_external_id.last_contact_at is not None


def test_page_lookups_load_a_page_in_at_most_three_queries(django_assert_max_num_queries):
    make_account(external_id="user-1", email="one@example.com")
    page = [
        {"contact_external_id": f"user-{n}", "contact_email": f"p{n}@example.com", "admin_assignee_id": "9"}
        for n in range(150)
    ]
    with django_assert_max_num_queries(3):
        lookups = PageLookups(page)
    assert lookups.account_for(page[1]).external_id == "user-1"
    assert lookups.account_for(page[2]) is None


def test_a_second_run_finds_everything_unchanged_and_newer_states_win(intercom):
    made = seed(intercom, 4)
    run()
    newer, webhook_newer = made[0]["id"], made[1]["id"]
    intercom.conversation_set(newer, updated_at=T0 + 3600, state="closed")
    # A webhook already brought a state newer than the one the search still shows.
    state = intercom.get_conversation(webhook_newer)
    conversation_sync(data={**state, "updated_at": T0 + 7200, "state": "snoozed"}, source="webhook")

    report = run()

    assert (report.stored, report.unchanged, report.older_skipped) == (1, 2, 1)
    rows = mirror()
    assert rows[newer]["state"] == "closed"
    assert rows[webhook_newer]["state"] == "snoozed"
    assert rows[webhook_newer]["updated_at_intercom"] == at(T0 + 7200)


# --- the watermark -----------------------------------------------------------------------------


def test_the_watermark_moves_to_the_newest_stored_state_after_the_run(intercom):
    seed(intercom, 5, descending=True)  # search pages come by id: the newest first here

    report = run(per_page=2)

    newest = at(T0 + 4 * 60)
    assert report.watermark == newest
    mark = ImportWatermark.objects.get(name=WATERMARK)
    assert mark.updated_since == newest
    assert mark.last_run_at is not None
    assert watermark_since() == newest


def test_a_crash_leaves_the_watermark_and_a_rerun_ends_identical(intercom):
    seed(intercom, 9, descending=True)
    ImportWatermark.objects.create(name=WATERMARK, updated_since=SINCE)

    def crash_on_third_page(report):
        if report.pages == 2:
            intercom.fail_next(5, status=500)  # more than the client's attempts

    with pytest.raises(IntercomUnavailable):
        run(per_page=3, progress=crash_on_third_page)

    # The first two pages (the newest states) are stored; the watermark did not move past the rest.
    assert Conversation.objects.count() == 6
    assert ImportWatermark.objects.get(name=WATERMARK).updated_since == SINCE

    report = run(since=watermark_since(), per_page=3)

    assert (report.stored, report.unchanged) == (3, 6)
    assert report.watermark == at(T0 + 8 * 60)
    crashed_then_resumed = mirror()
    Conversation.objects.all().delete()
    run(per_page=3, watermark_name=None)
    assert mirror() == crashed_then_resumed


def test_a_bad_item_is_counted_and_holds_the_watermark_at_its_updated_at(intercom):
    made = seed(intercom, 6)
    bad = made[2]
    intercom.conversation_set(bad["id"], created_at=None)  # cannot be stored without its times

    report = run(per_page=4)

    assert (report.fetched, report.stored, report.failed) == (6, 5, 1)
    assert bad["id"] in report.errors[0]
    assert bad["id"] not in mirror()
    assert report.watermark == at(bad["updated_at"])  # not past it: the next run reads it again

    intercom.conversation_set(bad["id"], created_at=bad["created_at"])
    again = run(since=watermark_since())
    assert (again.stored, again.failed) == (1, 0)
    assert again.watermark == at(made[-1]["updated_at"])


class PagesClient:
    """A stand-in client that answers the search with fixed pages (for shapes the fake never sends)."""

    def __init__(self, *pages):
        self.pages = list(pages)
        self.calls = 0

    def request(self, method, path, *, json=None, params=None):
        self.calls += 1
        items = self.pages[self.calls - 1]
        more = self.calls < len(self.pages)
        return {
            "type": "conversation.list",
            "conversations": items,
            "total_count": sum(len(p) for p in self.pages),
            "pages": {"next": {"starting_after": f"c{self.calls}"}} if more else {},
        }


def item(n: int, updated: int | None) -> dict:
    return {
        "type": "conversation",
        "id": str(n),
        "created_at": T0,
        "updated_at": updated,
        "state": "open",
        "contacts": {"type": "contact.list", "contacts": []},
    }


def test_items_that_are_not_conversations_fail_without_stopping_the_run():
    since = at(T0)
    junk = ["not an object", {"type": "ticket", "id": "9"}, item(3, None), {"updated_at": T0 + 99}]
    pages = PagesClient([item(1, T0 + 50), *junk[:2]], [junk[2], item(2, T0 + 60), junk[3]])

    report = conversations_import(client=pages, since=since)

    assert (report.fetched, report.stored, report.failed) == (6, 2, 4)
    assert len(report.errors) == 4
    # An item without a readable updated_at could be anywhere: the watermark stays at the start.
    assert report.watermark == since - OVERLAP
    assert ImportWatermark.objects.get(name=WATERMARK).updated_since == since - OVERLAP


def test_the_watermark_never_moves_back_nor_across_a_gap():
    mark = ImportWatermark.objects.create(name=WATERMARK, updated_since=at(T0 + 1000))

    # Started after the watermark (a gap nobody read): it stays.
    report = conversations_import(client=PagesClient([item(1, T0 + 5000)]), since=at(T0 + 3000))
    assert report.watermark == at(T0 + 1000)
    # Everything older than the watermark: it does not go back.
    report = conversations_import(client=PagesClient([item(2, T0 + 10)]), since=at(T0))
    assert report.watermark == at(T0 + 1000)
    # Started before it, newer states stored: it moves on.
    report = conversations_import(client=PagesClient([item(3, T0 + 4000)]), since=at(T0 + 1000))
    assert report.watermark == at(T0 + 4000)
    mark.refresh_from_db()
    assert mark.updated_since == at(T0 + 4000)


def test_the_watermark_does_not_pass_the_start_of_the_run():
    # A state newer than the run's start (it changed while the run read other pages, or the
    # clocks differ): the next run starts early enough to read what changed meanwhile.
    before = timezone.now()
    future = int(before.timestamp()) + 3600
    report = conversations_import(client=PagesClient([item(1, future)]), since=at(T0))
    assert before <= report.watermark <= timezone.now()


def test_without_a_watermark_name_nothing_is_read_or_written():
    report = conversations_import(client=PagesClient([item(1, T0)]), since=at(T0), watermark_name=None)
    assert (report.stored, report.watermark) == (1, None)
    assert not ImportWatermark.objects.exists()


def test_an_empty_search_creates_the_watermark_at_the_start():
    report = conversations_import(client=PagesClient([]), since=at(T0))
    assert (report.fetched, report.pages, report.watermark) == (0, 1, at(T0))


# --- the command -------------------------------------------------------------------------------


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("intercom_import_conversations", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_since_a_date_with_a_progress_bar_and_a_summary(intercom):
    seed(intercom, 5)

    out, err = command("--since", "2025-05-01")

    assert "Importing conversations updated since 2025-05-01 00:00" in out
    assert "fetched 5: stored 5, unchanged 0, older skipped 0, failed 0; 1 calls" in out
    assert "[##############################] 5/5  stored 5, unchanged 0, older 0, failed 0" in err
    assert ImportWatermark.objects.get(name=WATERMARK).updated_since == at(T0 + 4 * 60)


def test_command_accepts_an_iso_datetime_and_can_leave_the_watermark_alone(intercom):
    seed(intercom, 2)

    out, _ = command("--since", "2025-05-01T08:30:00+02:00", "--no-watermark")

    assert "stored 2" in out
    assert "watermark not moved (--no-watermark)" in out
    assert not ImportWatermark.objects.exists()


def test_command_without_since_starts_at_the_watermark(intercom):
    seed(intercom, 3)
    ImportWatermark.objects.create(name=WATERMARK, updated_since=at(T0 + 2 * 60 + 11 * 60))

    out, _ = command()

    assert "stored 0" in out and "fetched 0" in out  # all three are older than watermark - overlap
    ImportWatermark.objects.filter(name=WATERMARK).update(updated_since=at(T0 + 2 * 60))
    out, _ = command()
    assert "fetched 3: stored 3" in out


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "2025-02-30", "01/05/2025"])
def test_command_refuses_a_bad_date(value):
    with pytest.raises(CommandError, match="--since must be a date"):
        command("--since", value)


def test_command_refuses_when_intercom_is_not_connected(settings):
    settings.INTERCOM_ENABLED = False
    with pytest.raises(CommandError, match="Intercom is not connected"):
        command("--since", "2025-05-01")


def test_command_reports_a_crash_and_how_to_resume(intercom, monkeypatch):
    seed(intercom, 2)
    intercom.fail_next(5, status=503)
    monkeypatch.setattr("support.management.commands.intercom_import_conversations.IntercomClient", client)

    with pytest.raises(CommandError, match="run the command again to resume"):
        command("--since", "2025-05-01")
    assert not ImportWatermark.objects.exists()


def test_command_lists_failed_items(intercom):
    made = seed(intercom, 2)
    intercom.conversation_set(made[0]["id"], created_at=None)

    out, err = command("--since", "2025-05-01")

    assert "failed 1" in out
    assert f"conversation {made[0]['id']}:" in err


# --- the task and its schedule -----------------------------------------------------------------


def test_task_says_not_connected_when_intercom_is_off(settings):
    settings.INTERCOM_ENABLED = False
    assert tasks.conversations_reconcile() == "not connected"


def test_task_imports_the_last_24_hours_on_its_first_run_then_from_the_watermark(intercom):
    now = int(timezone.now().timestamp())
    recent = seed(intercom, 2, start=now - 2 * 3600)
    seed(intercom, 1, start=now - 3 * 86400)

    result = tasks.conversations_reconcile()

    assert (result["fetched"], result["stored"], result["failed"]) == (2, 2, 0)
    assert set(mirror()) == {c["id"] for c in recent}
    mark = ImportWatermark.objects.get(name=WATERMARK)
    assert mark.updated_since == at(recent[-1]["updated_at"])
    again = tasks.conversations_reconcile()
    assert (again["fetched"], again["unchanged"], again["stored"]) == (2, 2, 0)


def test_the_reconcile_task_runs_every_15_minutes():
    task = next(s for s in SCHEDULES if s.func == "support.tasks.conversations_reconcile")
    assert task.cron == "*/15 * * * *"
    module, name = task.func.rsplit(".", 1)
    assert callable(getattr(import_module(module), name))


def test_a_webhook_inserting_during_the_page_falls_back_to_newest_wins(intercom, monkeypatch):
    made = seed(intercom, 4)
    raced = made[2]
    real_lookups = importing.PageLookups

    def lookups_then_webhook(page_fields):
        # Between our look at the mirror and our insert, a webhook stores a newer state.
        if not Conversation.objects.filter(intercom_id=raced["id"]).exists():
            newer = {**intercom.get_conversation(raced["id"]), "updated_at": T0 + 9999, "state": "closed"}
            conversation_sync(data=newer, source="webhook")
        return real_lookups(page_fields)

    monkeypatch.setattr(importing, "PageLookups", lookups_then_webhook)

    report = run()

    assert (report.stored, report.older_skipped, report.failed) == (3, 1, 0)
    row = Conversation.objects.get(intercom_id=raced["id"])
    assert (row.state, row.last_source, row.updated_at_intercom) == ("closed", "webhook", at(T0 + 9999))
    assert Conversation.objects.count() == 4


def test_a_page_of_new_conversations_costs_a_fixed_number_of_queries(intercom, django_assert_max_num_queries):
    accounts = [make_account(external_id=f"user-q{n}", email=f"q{n}@example.com") for n in range(30)]
    IntercomAdmin.objects.create(intercom_id="991267002", name="Ada", synced_at=timezone.now())
    contacts = [
        intercom.add_contact(role="user", external_id=f"c-{n}", email=account.email.upper())
        for n, account in enumerate(accounts)
    ]
    for n in range(150):
        contact = contacts[n % 30]
        intercom.add_conversation(
            contact["id"], created_at=T0 + n, updated_at=T0 + n, admin_assignee_id=991267002 if n % 2 else 0
        )

    # SQLite inserts 27 conversations or 49 SLA clocks a statement (999 parameters); the rate
    # budget, the watermark, the SLA policies (5), whether routing is on and routing's SLA
    # choices (2) included. (With rules, each open unassigned conversation is routed: a decision
    # each, as a webhook would.)
    with django_assert_max_num_queries(52):  # not 5 per conversation (750)
        report = run()

    assert (report.stored, report.pages) == (150, 1)
    assert Conversation.objects.filter(account__isnull=False).count() == 150
    # Each started its clocks as a webhook would: first response and resolution, one the queue shows.
    assert SlaClock.objects.filter(conversation__isnull=False).count() == 300
    assert SlaClock.objects.filter(queue_rank__isnull=False).count() == 150
