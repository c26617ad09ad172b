"""The minute pass: warnings and breaches recorded once each, at their time, announced after
commit, reading only the clocks whose deadline has come."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.schedules import SCHEDULES
from support import signals, tasks
from support.models import SlaClock, SlaEvent
from support.sla.tick import sla_tick
from support.tests.factories import make_conversation, only_policy, pinned_time

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
M = dt.timedelta(minutes=1)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


@pytest.fixture
def heard():
    """What sla_warning and sla_breached announced, as (signal name, clock pk, event kind)."""
    received = []

    def listen(name):
        def receiver(sender, *, clock, event, **kwargs):
            received.append((name, clock.pk, event.kind))

        return receiver

    warning, breached = listen("sla_warning"), listen("sla_breached")
    signals.sla_warning.connect(warning)
    signals.sla_breached.connect(breached)
    yield received
    signals.sla_warning.disconnect(warning)
    signals.sla_breached.disconnect(breached)


def waiting_conversation(**fields):
    """A conversation the user opened now, with no reply yet (first response due in 60 minutes,
    warning at 45)."""
    return make_conversation(statistics={"first_admin_reply_at": None, "last_admin_reply_at": None}, **fields)


def test_warning_then_breach_are_recorded_once_each_even_when_the_pass_runs_twice(
    time, heard, django_capture_on_commit_callbacks
):
    only_policy()
    conversation = waiting_conversation(created_at=T0, waiting_since=T0)
    first = SlaClock.objects.get(conversation=conversation, metric="first_response")

    for minutes, expected in ((44, (0, 0)), (45, (1, 0)), (45, (0, 0)), (60, (0, 1)), (61, (0, 0))):
        time.now = T0 + minutes * M
        with django_capture_on_commit_callbacks(execute=True):
            report = sla_tick()
        assert (report.warnings, report.breaches) == expected, minutes

    first.refresh_from_db()
    assert list(first.events.values_list("kind", "at")) == [("warning", T0 + 45 * M), ("breach", T0 + 60 * M)]
    assert (first.warned_at, first.breached_at, first.status) == (T0 + 45 * M, T0 + 60 * M, "breached")
    assert heard == [("sla_warning", first.pk, "warning"), ("sla_breached", first.pk, "breach")]


def test_a_pass_after_the_due_time_records_the_breach_without_a_late_warning(time):
    only_policy()
    conversation = waiting_conversation(created_at=T0, waiting_since=T0)
    time.now = T0 + 90 * M
    sla_tick()
    first = SlaClock.objects.get(conversation=conversation, metric="first_response")
    assert list(first.events.values_list("kind", flat=True)) == ["breach"]
    assert first.next_deadline is None


def test_a_breach_already_recorded_elsewhere_does_not_fail_the_pass(time):
    only_policy()
    conversation = waiting_conversation(created_at=T0, waiting_since=T0)
    first = SlaClock.objects.get(conversation=conversation, metric="first_response")
    SlaEvent.objects.create(clock=first, kind="breach", at=T0 + 60 * M, recorded_at=T0 + 60 * M)
    time.now = T0 + 90 * M
    sla_tick()
    assert first.events.filter(kind="breach").count() == 1


def queries_of_a_pass(now) -> int:
    with CaptureQueriesContext(connection) as queries:
        sla_tick(now)
    return len(queries)


def test_the_pass_reads_only_clocks_whose_deadline_came(time):
    only_policy()
    waiting_conversation(created_at=T0, waiting_since=T0)
    nothing_due = queries_of_a_pass(T0 + 10 * M)
    one_due = queries_of_a_pass(T0 + 45 * M)
    for _ in range(20):  # more clocks, none due at T0 + 46
        waiting_conversation(created_at=T0 + 2 * M, waiting_since=T0 + 2 * M)

    assert queries_of_a_pass(T0 + 46 * M) == nothing_due <= 3
    assert one_due <= 6
    assert SlaClock.objects.filter(next_deadline__lte=T0 + 46 * M).count() == 0


def test_the_pass_is_a_task_scheduled_every_minute(time):
    only_policy()
    waiting_conversation(created_at=T0, waiting_since=T0)
    time.advance(minutes=50)
    assert tasks.sla_tick() == {"clocks": 1, "warnings": 1, "breaches": 0}
    schedule = next(s for s in SCHEDULES if s.name == "support.sla_tick")
    assert (schedule.func, schedule.cron) == ("support.tasks.sla_tick", "* * * * *")


@pytest.mark.django_db(transaction=True)
def test_two_passes_at_once_record_each_warning_once(time, heard):
    import threading

    only_policy()
    for _ in range(8):
        waiting_conversation(created_at=T0, waiting_since=T0)
    time.now = T0 + 50 * M
    reports, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            reports.append(sla_tick(batch=3))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sum(report.warnings for report in reports) == 8
    assert SlaEvent.objects.filter(kind="warning").count() == 8
    assert len(heard) == 8


def test_the_warnings_of_a_pass_are_mailed_by_one_queued_task(
    time, monkeypatch, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from django.core import mail

    from accounts.tests.factories import specialist_user
    from support.sla import clocks

    queued = []
    monkeypatch.setattr(clocks, "async_task", lambda name, *args: queued.append((name, *args)))
    only_policy()
    specialist_user(username="colleague")
    for _ in range(3):
        waiting_conversation(created_at=T0, waiting_since=T0)

    time.now = T0 + 45 * M
    with django_capture_on_commit_callbacks(execute=True):
        report = sla_tick()

    warned = sorted(SlaClock.objects.filter(warned_at__isnull=False).values_list("pk", flat=True))
    assert report.warnings == 3 and len(warned) == 3
    [(name, clock_ids)] = queued  # one task for the pass, not one per warning
    assert name == "support.tasks.sla_warning_mails" and sorted(clock_ids) == warned
    with django_assert_max_num_queries(2):  # the clocks with their items, the Specialists once
        sent = tasks.sla_warning_mails(clock_ids)
    assert sent == 3 and len(mail.outbox) == 3  # unassigned: the one active Specialist with an address
