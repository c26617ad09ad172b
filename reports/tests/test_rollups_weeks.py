"""The weekly rows beside the daily ones: read where a span holds whole UTC weeks, and always the
sums of their days."""

import datetime as dt
from collections import Counter

import pytest

from reports.models import ClockDay, ConversationDay
from reports.rollups import rollups_refresh
from reports.rollups.weeks import monday, split_runs
from reports.tests.factories import clock_row, conversation_row
from support.models import SlaPolicy
from support.tests.factories import only_policy

OCT = dt.date(2026, 10, 1)  # a Thursday


def day(n: int) -> dt.date:
    return OCT + dt.timedelta(days=n - 1)


def test_a_run_is_read_by_whole_weeks_and_the_days_around_them():
    daily, weekly = split_runs([(0, day(3), day(27))])  # Saturday 3rd to Tuesday 27th

    assert weekly == [(day(5), day(19))]  # the weeks of Mondays 5, 12 and 19
    assert daily == [(day(3), day(4)), (day(26), day(27))]


def test_a_week_split_between_two_spans_is_read_by_its_days():
    daily, weekly = split_runs([(0, day(1), day(14)), (1, day(15), day(31))])

    assert weekly == [(day(5), day(5)), (day(19), day(19))]
    assert daily == [(day(1), day(4)), (day(12), day(18)), (day(26), day(31))]


def test_a_run_shorter_than_a_week_is_read_by_its_days():
    assert split_runs([(0, day(5), day(10))]) == ([(day(5), day(10))], [])


def weeks_from_days(model, count: str, dimensions: tuple) -> Counter:
    sums: Counter = Counter()
    for row in model.objects.filter(days=1).values("day", *dimensions, count):
        sums[(monday(row["day"]), *(row[d] for d in dimensions))] += row[count]
    return sums


def weekly_rows(model, count: str, dimensions: tuple) -> Counter:
    return Counter(
        {
            (row["day"], *(row[d] for d in dimensions)): row[count]
            for row in model.objects.filter(days=7).values("day", *dimensions, count)
        }
    )


@pytest.mark.django_db
def test_the_weekly_rows_are_the_sums_of_their_days_after_every_change():
    policy = SlaPolicy.objects.first() or only_policy()
    clocks = []
    for n in range(1, 29):
        stopped = dt.datetime.combine(day(n), dt.time(9 + n % 12), tzinfo=dt.UTC)
        conversation = conversation_row(closed=stopped)
        clocks.append(clock_row(policy=policy, conversation=conversation, achieved=stopped, wall=60 * n))
    dims = ("metric", "status", "kind", "tier_id", "assignee_id")
    rollups_refresh()
    assert weekly_rows(ClockDay, "clocks", dims) == weeks_from_days(ClockDay, "clocks", dims) != Counter()

    moved = clocks[3]  # 4 October, a Sunday, moved to the Tuesday after
    moved.stopped_at = dt.datetime.combine(day(6), dt.time(10), tzinfo=dt.UTC)
    moved.save()
    rollups_refresh()
    assert weekly_rows(ClockDay, "clocks", dims) == weeks_from_days(ClockDay, "clocks", dims)
    conversation_dims = ("event", "assignee_id", "tier_id", "venue", "rating")
    assert weekly_rows(ConversationDay, "conversations", conversation_dims) == weeks_from_days(
        ConversationDay, "conversations", conversation_dims
    )
