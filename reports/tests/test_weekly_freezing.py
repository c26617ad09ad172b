"""Freezing a week: the reports' figures for one ISO week, stored once by the schedule (the
right week even when the worker was down over Monday), recomputed only by an Admin with a
reason (the old snapshot kept), a week without data saying so."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import make_account
from reports.models import MetricSnapshot
from reports.tests.factories import clock_row, conversation_row
from reports.weekly.freezing import (
    last_finished_week,
    section_from_json,
    team_sections,
    week_freeze,
    week_period,
    weeks_due,
)
from support.models import SlaPolicy
from support.tests.factories import only_policy

pytestmark = pytest.mark.django_db
UTC = dt.UTC
MONDAY = dt.date(2026, 11, 23)
THURSDAY_AFTER = dt.datetime(2026, 12, 3, 10, tzinfo=UTC)  # in the week after MONDAY's


def rated(when: dt.datetime, rating: int, *, account=None):
    policy = SlaPolicy.objects.first() or only_policy()
    conversation = conversation_row(account=account, closed=when, rating=rating, rated=when)
    clock_row(policy=policy, conversation=conversation, achieved=when, wall=600)
    return conversation


@pytest.fixture
def week_of_ratings(settings):
    settings.TIME_ZONE = "UTC"
    account = make_account()
    for day, rating in ((23, 5), (24, 4), (25, 1), (29, 5)):  # the 29th is a Sunday: in the week
        rated(dt.datetime(2026, 11, day, 12, tzinfo=UTC), rating, account=account)
    rated(dt.datetime(2026, 11, 30, 0, 30, tzinfo=UTC), 1, account=account)  # the next week
    return account


def csat(snapshot: MetricSnapshot):
    return snapshot.headline["csat.csat"]["value"]


def test_a_week_is_its_monday_to_the_next_monday_in_the_programs_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    period = week_period(MONDAY)
    assert (period.start.isoformat(), period.end.isoformat()) == (
        "2026-11-23T00:00:00-05:00",
        "2026-11-30T00:00:00-05:00",
    )
    assert last_finished_week(THURSDAY_AFTER) == MONDAY
    assert last_finished_week(dt.datetime(2026, 11, 30, 4, 59, tzinfo=UTC)) == dt.date(2026, 11, 16)


def test_freezing_stores_every_figure_with_its_count_and_definition(week_of_ratings):
    snapshot, made = week_freeze(MONDAY, now=THURSDAY_AFTER)
    assert made and snapshot.made_by is None and snapshot.week == MONDAY
    sections = [section_from_json(s) for s in snapshot.sections]
    live = team_sections(week_period(MONDAY))
    assert [s.key for s in sections] == [s.key for s in live]
    assert [(f.key, f.value, f.sample) for s in sections for f in s.figures] == [
        (f.key, f.value, f.sample) for s in live for f in s.figures
    ]
    figure = next(f for s in sections for f in s.figures if f.key == "csat")
    assert figure.sample == 4 and figure.value == 75.0 and figure.definition
    assert csat(snapshot) == 75.0 and snapshot.items > 0
    assert len(snapshot.definitions_version) == 12


def test_the_schedule_never_freezes_a_week_twice_and_late_data_does_not_change_it(week_of_ratings):
    first, _ = week_freeze(MONDAY, now=THURSDAY_AFTER)
    rated(dt.datetime(2026, 11, 26, 12, tzinfo=UTC), 1, account=week_of_ratings)  # a late rating
    again, made = week_freeze(MONDAY, now=THURSDAY_AFTER)
    assert not made and again.pk == first.pk and csat(again) == 75.0
    assert MetricSnapshot.objects.count() == 1


def test_recompute_needs_a_reason_keeps_the_old_snapshot_and_names_who(week_of_ratings, portal_admin):
    first, _ = week_freeze(MONDAY, now=THURSDAY_AFTER)
    rated(dt.datetime(2026, 11, 26, 12, tzinfo=UTC), 1, account=week_of_ratings)
    with pytest.raises(ValidationError, match="Say why"):
        week_freeze(MONDAY, by=portal_admin, reason="  ", now=THURSDAY_AFTER)
    assert MetricSnapshot.objects.get().replaced_at is None
    second, made = week_freeze(MONDAY, by=portal_admin, reason="A rating arrived late", now=THURSDAY_AFTER)
    first.refresh_from_db()
    assert made and first.replaced_at == THURSDAY_AFTER and csat(first) == 75.0
    assert (second.made_by, second.reason, csat(second)) == (portal_admin, "A rating arrived late", 60.0)


def test_a_week_not_yet_ended_or_not_a_monday_is_refused():
    with pytest.raises(ValidationError, match="not ended yet"):
        week_freeze(dt.date(2026, 11, 30), now=THURSDAY_AFTER)
    with pytest.raises(ValidationError, match="starts on a Monday"):
        week_freeze(dt.date(2026, 11, 24), now=THURSDAY_AFTER)
    assert not MetricSnapshot.objects.exists()


def test_a_worker_down_over_monday_freezes_the_missed_weeks_when_it_returns(settings):
    settings.TIME_ZONE = "UTC"
    assert weeks_due(THURSDAY_AFTER) == [MONDAY]  # nothing frozen yet: only the last week
    week_freeze(dt.date(2026, 11, 2), now=THURSDAY_AFTER)
    assert weeks_due(THURSDAY_AFTER) == [dt.date(2026, 11, 9), dt.date(2026, 11, 16), MONDAY]
    for week in weeks_due(THURSDAY_AFTER):
        week_freeze(week, now=THURSDAY_AFTER)
    assert weeks_due(THURSDAY_AFTER) == []


def test_a_week_without_data_says_so(settings):
    settings.TIME_ZONE = "UTC"
    snapshot, _ = week_freeze(MONDAY, now=THURSDAY_AFTER)
    assert snapshot.items == 0 and csat(snapshot) is None
