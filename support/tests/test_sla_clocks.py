"""The SLA clocks of conversations and cases: when each starts, stops, pauses and is due, what
reopening does, and that evaluating again changes nothing."""

import datetime as dt
import re
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import make_account
from disputes.services.cases import case_reply_record, dispute_file, dispute_transition
from disputes.tests.factories import make_decided_case
from support.models import SlaClock, SlaEvent
from support.services import conversation_sync
from support.sla.clocks import metric_status, sla_evaluate_case, sla_evaluate_conversation
from support.sla.policies import policy_delete
from support.tests.factories import conversation_object, make_calendar, only_policy, pinned_time, week

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)  # a Monday
M = dt.timedelta(minutes=1)
FIRST, NEXT, RESOLUTION = (
    SlaClock.Metric.FIRST_RESPONSE,
    SlaClock.Metric.NEXT_RESPONSE,
    SlaClock.Metric.RESOLUTION,
)
_ids = count(315470000000001)


def ts(moment):
    return int(moment.timestamp()) if moment else None


class Talk:
    """An Intercom conversation moved along in time: each `say` is the state Intercom would send
    at the pinned now, stored through conversation_sync (which evaluates the clocks)."""

    def __init__(self, time, account=None):
        self.time, self.account = time, account
        self.id = str(next(_ids))
        self.created = time.now
        self.facts = {
            "state": "open",
            "waiting_since": time.now,
            "first_admin_reply_at": None,
            "last_admin_reply_at": None,
            "last_contact_reply_at": time.now,
            "last_close_at": None,
            "count_reopens": 0,
        }
        self.conversation = self.say()

    def say(self, **changes):
        self.facts.update(changes)
        f = self.facts
        data = conversation_object(
            intercom_id=self.id,
            external_id=self.account.external_id if self.account else "",
            email=self.account.email if self.account else "someone@example.com",
            state=f["state"],
            created_at=self.created,
            updated_at=self.time.now,
            waiting_since=f["waiting_since"],
            statistics={
                name: ts(f[name]) if name != "count_reopens" else f[name]
                for name in (
                    "first_admin_reply_at",
                    "last_admin_reply_at",
                    "last_contact_reply_at",
                    "last_close_at",
                    "count_reopens",
                )
            },
        )
        self.conversation = conversation_sync(data=data, source="webhook")
        return self.conversation

    def we_reply(self):
        now = self.time.now
        return self.say(
            waiting_since=None,
            first_admin_reply_at=self.facts["first_admin_reply_at"] or now,
            last_admin_reply_at=now,
        )

    def user_writes(self):
        now = self.time.now
        reopened = self.facts["state"] == "closed"
        return self.say(
            state="open",
            waiting_since=now,
            last_contact_reply_at=now,
            count_reopens=self.facts["count_reopens"] + reopened,
        )

    def close(self):
        return self.say(state="closed", waiting_since=None, last_close_at=self.time.now)

    def clock(self, metric, cycle=0) -> SlaClock:
        return SlaClock.objects.get(conversation=self.conversation, metric=metric, cycle=cycle)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


@pytest.fixture
def policy(time):
    return only_policy()


def test_first_response_in_time_is_hit(policy, time):
    talk = Talk(time)
    first = talk.clock(FIRST)
    assert (first.started_at, first.due_at, first.warn_at) == (T0, T0 + 60 * M, T0 + 45 * M)
    assert first.status == "active" and first.next_deadline == T0 + 45 * M
    assert talk.clock(RESOLUTION).due_at == T0 + 240 * M

    time.advance(minutes=20)
    talk.we_reply()

    first.refresh_from_db()
    assert (first.status, first.achieved_at, first.next_deadline) == ("hit", T0 + 20 * M, None)
    assert not SlaEvent.objects.exists()


def test_first_response_late_is_breached_then_missed(policy, time):
    talk = Talk(time)
    time.advance(minutes=61)
    sla_evaluate_conversation(talk.conversation)
    first = talk.clock(FIRST)
    assert (first.status, first.breached_at) == ("breached", T0 + 60 * M)
    assert list(first.events.values_list("kind", "at")) == [("breach", T0 + 60 * M)]

    time.advance(minutes=30)
    talk.we_reply()

    first.refresh_from_db()
    assert (first.status, first.achieved_at) == ("missed", T0 + 91 * M)
    assert metric_status([first.status]) == "missed"
    assert first.events.count() == 1


def test_each_wait_for_our_next_reply_is_a_cycle_of_its_own(policy, time):
    talk = Talk(time)
    time.advance(minutes=10)
    talk.we_reply()
    time.advance(minutes=90)  # +100
    talk.user_writes()
    one = talk.clock(NEXT, 1)
    assert (one.started_at, one.due_at) == (T0 + 100 * M, T0 + 130 * M)
    time.advance(minutes=10)
    talk.we_reply()
    time.advance(minutes=90)  # +200
    talk.user_writes()
    time.advance(minutes=40)  # +240, ten minutes past the second cycle's due time
    sla_evaluate_conversation(talk.conversation)

    one.refresh_from_db()
    two = talk.clock(NEXT, 2)
    assert (one.status, one.achieved_at) == ("hit", T0 + 110 * M)
    assert (two.started_at, two.status, two.breached_at) == (T0 + 200 * M, "breached", T0 + 230 * M)
    assert metric_status(SlaClock.objects.filter(metric=NEXT).values_list("status", flat=True)) == (
        "active_with_misses"
    )


def test_resolution_pauses_while_the_last_word_is_ours_and_resumes_when_the_user_writes(policy, time):
    talk = Talk(time)
    time.advance(minutes=30)
    talk.we_reply()
    resolution = talk.clock(RESOLUTION)
    assert (resolution.status, resolution.paused_since, resolution.due_at) == ("paused", T0 + 30 * M, None)
    assert resolution.next_deadline is None

    time.advance(minutes=120)  # the user answers two hours later
    talk.user_writes()

    resolution.refresh_from_db()
    assert (resolution.status, resolution.paused_since) == ("active", None)
    assert resolution.paused_total == 120 * M
    assert resolution.due_at == T0 + (240 + 120) * M


def test_without_pausing_the_clock_runs_while_waiting_on_the_user(time):
    only_policy(pause_while_waiting=False)
    talk = Talk(time)
    time.advance(minutes=30)
    talk.we_reply()
    resolution = talk.clock(RESOLUTION)
    assert (resolution.status, resolution.paused_total, resolution.due_at) == (
        "active",
        dt.timedelta(0),
        T0 + 240 * M,
    )


def test_reopening_a_conversation_starts_new_cycles_and_keeps_the_history(policy, time):
    talk = Talk(time)
    time.advance(minutes=10)
    talk.we_reply()
    time.advance(minutes=40)  # +50
    talk.close()
    time.advance(minutes=250)  # +300: the user writes again
    talk.user_writes()

    assert talk.conversation.reopened_count == 1
    first_cycle, second_cycle = talk.clock(RESOLUTION, 0), talk.clock(RESOLUTION, 1)
    assert (first_cycle.status, first_cycle.achieved_at) == ("hit", T0 + 50 * M)
    assert (second_cycle.started_at, second_cycle.status) == (T0 + 300 * M, "active")
    assert talk.clock(NEXT, 1).started_at == T0 + 300 * M
    assert talk.clock(FIRST).status == "hit"  # the first response is not measured again


def test_due_times_are_counted_in_the_policys_business_hours(time):
    london = ZoneInfo("Europe/London")
    office = make_calendar("London office", time_zone="Europe/London", windows=week("09:00", "17:00"))
    only_policy(calendar=office, warn_minutes=15)
    time.now = dt.datetime(2027, 3, 5, 16, 30, tzinfo=london)  # a Friday, half an hour before closing

    first = Talk(time).clock(FIRST)

    assert first.due_at == dt.datetime(2027, 3, 8, 9, 30, tzinfo=london)  # Monday
    assert first.warn_at == dt.datetime(2027, 3, 8, 9, 15, tzinfo=london)


def test_evaluating_again_changes_nothing(policy, time):
    talk = Talk(time)
    time.advance(minutes=70)
    sla_evaluate_conversation(talk.conversation)
    before = list(SlaClock.objects.order_by("pk").values())
    events = list(SlaEvent.objects.values_list("pk", flat=True))

    sla_evaluate_conversation(talk.conversation)
    talk.say()  # the same facts again, from a later webhook

    assert list(SlaClock.objects.order_by("pk").values()) == before
    assert list(SlaEvent.objects.values_list("pk", flat=True)) == events


def test_no_clock_without_a_policy_that_sets_the_target(time):
    only_policy(
        first_response_minutes=None, next_response_minutes=None, resolution_minutes=600, kinds=["case"]
    )
    talk = Talk(time)
    assert not SlaClock.objects.filter(conversation=talk.conversation).exists()


def test_a_policy_with_clocks_is_not_deleted(policy, time):
    Talk(time)
    with pytest.raises(ValidationError, match="in use"):
        policy_delete(policy=policy)


# Cases -------------------------------------------------------------------------------------------


@pytest.fixture
def case(policy, specialist, time):
    return dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category="order_execution",
        claim="Partial fill.",
    )


def case_clock(case, metric, cycle=0) -> SlaClock:
    return SlaClock.objects.get(case=case, metric=metric, cycle=cycle)


def test_a_case_filed_through_disputes_gets_its_clocks_through_the_signal(case):
    assert set(SlaClock.objects.filter(case=case).values_list("metric", "cycle", "due_at")) == {
        (FIRST, 0, T0 + 60 * M),
        (RESOLUTION, 0, T0 + 240 * M),
    }


def test_disputes_never_imports_support():
    disputes = Path(__file__).resolve().parents[2] / "disputes"
    for path in disputes.rglob("*.py"):
        if "tests" in path.parts:
            continue
        assert not re.search(r"^\s*(from|import) support\b", path.read_text(), re.MULTILINE), path


def test_a_case_waiting_on_the_user_pauses_its_clocks(case, specialist, time):
    time.advance(minutes=30)
    dispute_transition(case=case, by=specialist, to="waiting_on_user")
    resolution = case_clock(case, RESOLUTION)
    assert (resolution.status, resolution.due_at, resolution.next_deadline) == ("paused", None, None)

    time.advance(minutes=60)
    dispute_transition(case=case, by=specialist, to="investigating")

    resolution.refresh_from_db()
    assert (resolution.status, resolution.paused_total, resolution.due_at) == ("active", 60 * M, T0 + 300 * M)
    assert case_clock(case, FIRST).due_at == T0 + 120 * M
    # Leaving "waiting on user" is the user's reply, but no next response is due before the first.
    assert not SlaClock.objects.filter(case=case, metric=NEXT).exists()


def test_reopening_a_case_starts_new_cycles_and_keeps_the_history(case, specialist, time):
    time.advance(minutes=100)
    dispute_transition(case=case, by=specialist, to="closed")
    time.advance(minutes=100)
    dispute_transition(case=case, by=specialist, to="investigating", reason="The user sent new evidence.")

    assert (case_clock(case, RESOLUTION, 0).status, case_clock(case, RESOLUTION, 0).achieved_at) == (
        "hit",
        T0 + 100 * M,
    )
    assert case_clock(case, RESOLUTION, 1).started_at == T0 + 200 * M
    assert case_clock(case, FIRST).status == "missed"  # closed past its due time without a reply
    assert case_clock(case, NEXT, 1).started_at == T0 + 200 * M


def test_evaluating_a_case_again_changes_nothing(case, time):
    time.advance(minutes=100)
    sla_evaluate_case(case)
    before = list(SlaClock.objects.order_by("pk").values())
    sla_evaluate_case(case)
    assert list(SlaClock.objects.order_by("pk").values()) == before
    assert SlaEvent.objects.count() == 1  # the first response's breach


def test_only_a_reply_sent_to_the_user_is_a_case_response(case, specialist, time):
    from playbooks.tests.factories import make_template

    template = make_template(specialist, name="Order reply", serves="order_execution", body="Hello.")
    case.intercom_conversation_id = "123"
    case.save(update_fields=["intercom_conversation_id"])
    time.advance(minutes=10)
    case_reply_record(case=case, by=specialist, template=template, subject="", body="Hello.")
    assert case_clock(case, FIRST).status == "active"  # kept in the history only

    time.advance(minutes=10)
    case_reply_record(case=case, by=specialist, template=template, subject="", body="Hello.", send=True)
    first = case_clock(case, FIRST)
    assert (first.status, first.achieved_at) == ("hit", T0 + 20 * M)


def test_a_decision_achieves_the_resolution(policy, specialist, time):
    case = make_decided_case(by=specialist)
    resolution = case_clock(case, RESOLUTION)
    assert (resolution.status, resolution.achieved_at) == ("hit", T0)
    assert case_clock(case, FIRST).status == "cancelled"  # decided before a reply was due


def test_open_items_without_clocks_get_them_from_the_backfill(policy, case, time):
    from support.tasks import sla_backfill

    talk = Talk(time)
    SlaClock.objects.all().delete()  # as before the clocks existed
    time.advance(minutes=5)

    assert sla_backfill() == 2
    assert SlaClock.objects.filter(conversation=talk.conversation).count() == 2
    assert SlaClock.objects.filter(case=case).count() == 2
    assert sla_backfill() == 0
