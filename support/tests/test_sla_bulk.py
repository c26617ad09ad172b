"""Many items at once (support.sla.bulk) and the queue head: evaluating in chunks stores exactly
what evaluating item by item stores, records each warning and breach once, survives a race with
another writer, keeps one queue head per open item, and moves a case's due times with its clocks."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.tests.factories import make_account
from disputes.models import DisputeCase
from disputes.services.cases import dispute_file, dispute_transition
from support import signals
from support.models import Conversation, SlaClock, SlaEvent
from support.sla import bulk
from support.sla.clocks import STATE_FIELDS, sla_evaluate_case, sla_evaluate_conversation
from support.sla.heads import queue_key
from support.tests.factories import make_calendar, make_conversation, only_policy, pinned_time, week
from support.tests.test_sla_clocks import Talk

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)  # a Monday
M = dt.timedelta(minutes=1)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


def stored() -> dict:
    """Every clock's state, keyed by item, metric and cycle (not by id, which a rerun changes)."""
    return {
        (c.conversation_id, c.case_id, c.metric, c.cycle): tuple(getattr(c, name) for name in STATE_FIELDS)
        for c in SlaClock.objects.all()
    }


def events() -> list:
    rows = SlaEvent.objects.values_list("clock__conversation_id", "clock__case_id", "kind", "at")
    return sorted(rows, key=lambda row: (row[0] or 0, row[1] or 0, row[2], row[3]))


def heads() -> dict:
    return {
        (c.conversation_id, c.case_id): (c.metric, c.cycle, c.queue_rank)
        for c in SlaClock.objects.filter(queue_rank__isnull=False)
    }


def a_mixed_book(time):
    """Conversations and cases in every state a clock can be in, written at different moments."""
    only_policy()
    account = make_account()
    talks = [Talk(time, account) for _ in range(4)]
    time.advance(minutes=20)
    talks[1].we_reply()  # resolution paused (the last word is ours)
    talks[2].we_reply()
    time.advance(minutes=100)  # +120: talk 0 and 3 are past their first response
    talks[2].user_writes()  # a next-response cycle
    talks[3].close()
    dispute_file(by=account.owner, account=account, category="order_execution", claim="Partial fill.")
    waiting = dispute_file(by=account.owner, account=account, category="order_execution", claim="Fees.")
    dispute_transition(case=waiting, to="investigating", by=account.owner)
    dispute_transition(case=waiting, to="waiting_on_user", by=account.owner)
    time.advance(minutes=70)  # +190: the first case is past its first response
    return account


def test_evaluating_in_chunks_stores_what_evaluating_one_by_one_stores(time, monkeypatch):
    a_mixed_book(time)
    # From scratch both ways: a conversation's past pauses are known only to clocks that saw them.
    SlaClock.objects.all().delete()
    for conversation in Conversation.objects.select_related("account"):
        sla_evaluate_conversation(conversation)
    for case in DisputeCase.objects.select_related("account"):
        sla_evaluate_case(case)
    one_by_one, one_by_one_heads = stored(), heads()
    recorded = events()
    assert len(one_by_one_heads) == 5  # three open conversations and two open cases
    assert any(kind == "breach" for *_, kind, _ in recorded)

    SlaClock.objects.all().delete()
    monkeypatch.setattr(bulk, "CHUNK", 2)  # several chunks of each kind
    open_items = bulk.sla_evaluate_open()

    assert open_items == 5  # the closed conversation has no open clock to give
    in_chunks = stored()
    assert len(in_chunks) >= 10
    assert in_chunks == {key: state for key, state in one_by_one.items() if key[:2] in one_by_one_heads}
    assert heads() == one_by_one_heads
    assert events() == [event for event in recorded if (event[0], event[1]) in one_by_one_heads]


def test_a_breach_found_in_bulk_is_recorded_and_announced_once(time, django_capture_on_commit_callbacks):
    only_policy()
    unanswered = {"first_admin_reply_at": None, "last_admin_reply_at": None}
    make_conversation(make_account(), created_at=T0, updated_at=T0, waiting_since=T0, statistics=unanswered)
    SlaClock.objects.all().delete()
    time.advance(minutes=90)
    heard = []

    def listen(sender, clock, event, **kwargs):
        heard.append(event.kind)

    signals.sla_breached.connect(listen, dispatch_uid="test-bulk-breach")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            bulk.sla_evaluate_open()
            bulk.sla_evaluate_items(
                conversation_ids=SlaClock.objects.values_list("conversation_id", flat=True)
            )
    finally:
        # Only ours: clearing every receiver would cut off the apps that listen (oncall).
        signals.sla_breached.disconnect(dispatch_uid="test-bulk-breach")
    assert heard == ["breach"]
    assert list(SlaEvent.objects.values_list("kind", "at")) == [("breach", T0 + 60 * M)]


def test_a_clock_another_writer_created_meanwhile_sends_the_chunk_item_by_item(time, monkeypatch):
    only_policy()
    account = make_account()
    first = make_conversation(account, created_at=T0, updated_at=T0, waiting_since=T0, source="import")
    second = make_conversation(account, created_at=T0, updated_at=T0, waiting_since=T0, source="import")
    SlaClock.objects.filter(conversation=second).delete()
    before = stored()
    # What a reader saw before the other writer committed: neither conversation had clocks.
    monkeypatch.setattr(bulk, "_clocks_by_item", lambda item, ids: {pk: [] for pk in ids})

    bulk.sla_evaluate_conversations([first, second])

    assert SlaClock.objects.filter(conversation=first).count() == 2  # not four: no duplicate
    assert SlaClock.objects.filter(conversation=second).count() == 2
    assert {k: v for k, v in stored().items() if k[0] == first.pk} == before


def test_the_queue_head_is_the_most_urgent_running_clock_and_leaves_with_the_item(time):
    only_policy()
    talk = Talk(time, make_account())
    assert heads() == {(talk.conversation.pk, None): ("first_response", 0, 0)}

    time.advance(minutes=10)
    talk.we_reply()  # first response hit; resolution paused while the last word is ours
    assert heads() == {(talk.conversation.pk, None): ("resolution", 0, 1)}

    time.advance(minutes=10)
    talk.user_writes()  # next response due in 30 minutes, resolution in 220
    assert heads() == {(talk.conversation.pk, None): ("next_response", 1, 0)}
    running = SlaClock.objects.filter(status__in=SlaClock.RUNNING)
    assert min(running, key=queue_key).metric == "next_response"

    time.advance(minutes=5)
    talk.close()
    assert heads() == {}


def test_a_breach_marked_by_the_minute_pass_keeps_the_head(time):
    from support.sla.tick import sla_tick

    only_policy()
    talk = Talk(time, make_account())
    time.advance(minutes=61)
    sla_tick()
    head = SlaClock.objects.get(queue_rank__isnull=False)
    assert (head.metric, head.status, head.queue_rank) == ("first_response", "breached", 0)
    assert head.conversation_id == talk.conversation.pk


def test_the_migration_marks_the_heads_of_clocks_written_before_it(time):
    a_mixed_book(time)
    expected = heads()
    SlaClock.objects.update(queue_rank=None)
    migration = importlib.import_module("support.migrations.0005_sla_queue_head")

    migration.mark_queue_heads(apps, None)

    assert heads() == expected


def test_a_case_due_times_are_its_clocks_due_times(time):
    office = make_calendar("Office", time_zone="UTC", windows=week("09:00", "17:00"))
    only_policy(calendar=office, first_response_minutes=120, resolution_minutes=600)
    account = make_account()
    time.now = dt.datetime(2027, 3, 5, 16, 0, tzinfo=dt.UTC)  # a Friday, an hour before closing
    case = dispute_file(by=account.owner, account=account, category="order_execution", claim="Partial fill.")

    case.refresh_from_db()
    monday = dt.datetime(2027, 3, 8, tzinfo=dt.UTC)
    assert case.first_response_due == monday + dt.timedelta(hours=10)  # 1 h Friday, 1 h Monday
    tuesday = monday + dt.timedelta(days=1)
    assert case.resolution_due == tuesday + dt.timedelta(hours=10)  # 1 h Friday, 8 h Monday, 1 h Tuesday
    resolution = SlaClock.objects.get(case=case, metric="resolution")
    assert case.resolution_due == resolution.due_at

    time.now = monday + dt.timedelta(hours=10)
    dispute_transition(case=case, to="investigating", by=account.owner)
    dispute_transition(case=DisputeCase.objects.get(pk=case.pk), to="waiting_on_user", by=account.owner)
    case.refresh_from_db()
    assert case.resolution_due == tuesday + dt.timedelta(hours=10)  # paused: kept as it was
    time.now = monday + dt.timedelta(hours=12)
    dispute_transition(case=case, to="investigating", by=account.owner)
    case.refresh_from_db()
    assert case.resolution_due == tuesday + dt.timedelta(hours=12)  # two hours later
    assert timezone.now() < case.resolution_due


def test_the_queue_head_carries_the_items_assignee_as_it_changes(time):
    from accounts.tests.factories import specialist_user
    from disputes.services.cases import cases_bulk_assign

    only_policy()
    ada, ben = specialist_user(username="ada"), specialist_user(username="ben")
    account = make_account(owner=ada)
    opened = {"created_at": T0, "waiting_since": T0, "intercom_id": "315470000009001"}
    conversation = make_conversation(account, assignee=ada, updated_at=T0, source="webhook", **opened)
    case = dispute_file(by=ada, account=account, category="order_execution", claim="Fees.", assignee=ada)
    head = SlaClock.objects.filter(queue_rank__isnull=False)
    assert set(head.values_list("queue_assignee", flat=True)) == {ada.pk}

    time.advance(minutes=5)
    make_conversation(account, assignee=ben, updated_at=time.now, source="webhook", **opened)
    cases_bulk_assign(case_ids=[case.pk], by=ada, assignee=None)

    assert head.get(conversation=conversation).queue_assignee == ben
    assert head.get(case=case).queue_assignee is None
