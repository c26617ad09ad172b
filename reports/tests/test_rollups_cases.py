"""The dispute cases' rollups give the counts the cases give — opened and decided, in any time
zone, per category, venue, assignee, outcome and author — and stay exact when a decision is
amended later, a case is reassigned or deleted."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Venue
from disputes.models import Decision, DisputeCase
from reports.metrics.base import ReportContext, week_spans
from reports.models import CaseDay
from reports.periods import period_of_days
from reports.rollups import CASES, DECIDED, OPENED, rollups_refresh
from reports.tests.factories import at
from reports.tests.test_metrics_disputes import BIG, MARKET, ORDER, PLATFORM, SMALL, Desk

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def desk(monkeypatch):
    return Desk(monkeypatch)


@pytest.fixture
def cases(desk):
    """Cases filed from October to late November, most decided (some by four eyes), at instants
    near midnights so zones and edges matter."""
    made = []
    for day in range(1, 29, 2):
        category = (MARKET, ORDER, PLATFORM)[day % 3]
        filed = at(day, 23, month=10) if day < 15 else at(day - 14, 1)
        case = desk.file(
            filed,
            category=category,
            assignee=desk.me if day % 4 else desk.other,
            amount=BIG if day % 5 == 0 else SMALL,
            venue=Venue.US if day % 3 == 0 else None,
        )
        if day % 7 != 0:
            decision = desk.decide(
                filed + dt.timedelta(days=2, hours=day % 5),
                case,
                ("upheld", "denied", "partially_upheld")[day % 3],
                by=desk.other if day % 5 == 0 else desk.me,
            )
            if decision.state == Decision.State.PROPOSED:
                desk.approve(filed + dt.timedelta(days=3), decision, by=desk.me)
        made.append(case)
    return made


def spans_of(tz) -> dict:
    period = period_of_days(dt.date(2026, 11, 1), dt.date(2026, 11, 30), tz, label="", params=[])
    previous = period_of_days(dt.date(2026, 10, 2), dt.date(2026, 10, 31), tz, label="", params=[])
    return week_spans(ReportContext(period=period, previous=previous))


def rolled(spans, event) -> Counter:
    counts = Counter()
    for row in CASES.counts(spans, event):
        counts[tuple(row[d] for d in ("span", *CASES.dimensions))] += row["n"]
    return +counts


def raw(spans, event) -> Counter:
    """The same counts straight from the cases and their recorded decisions, span by span."""
    field = "created_at" if event == OPENED else "decided_at"
    counts = Counter()
    for key, (start, end) in spans.items():
        for case in DisputeCase.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end}):
            recorded = [d for d in case.decisions.all() if d.state == Decision.State.RECORDED]
            decisions = [(d.outcome, d.proposed_by_id) for d in recorded] or [(None, None)]
            for outcome, author in decisions if event == DECIDED else [(None, None)]:
                counts[(key, case.category, case.venue, case.assignee_id, outcome, author)] += 1
    return counts


def assert_exact(tz=UTC, now=None):
    rollups_refresh(now)
    spans = spans_of(tz)
    for event in (OPENED, DECIDED):
        assert rolled(spans, event) == raw(spans, event)


@pytest.mark.parametrize("tz", [UTC, NEW_YORK], ids=["UTC", "New York"])
def test_weeks_in_any_zone_count_what_the_cases_count(cases, tz):
    assert_exact(tz)
    assert sum(rolled(spans_of(tz), DECIDED).values()) >= 8
    assert CaseDay.objects.filter(event=DECIDED).exclude(outcome=None).exists()


def settled():
    """Every case last changed long ago, and counted: a refresh now sees only later changes."""
    DisputeCase.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    rollups_refresh()


def test_an_amended_decision_counts_on_its_new_day_with_its_new_outcome(cases, desk):
    settled()
    decided = DisputeCase.objects.filter(decided_at__lt=at(1)).order_by("-decided_at").first()
    recorded = decided.decisions.get(state=Decision.State.RECORDED)
    outcome = "upheld" if recorded.outcome != "upheld" else "denied"
    desk.decide(at(20), decided, outcome, amendment_reason="New evidence.")  # October's, now November's
    assert_exact(NEW_YORK, now=timezone.now() + dt.timedelta(minutes=2))


def test_a_reassigned_case_counts_for_its_new_assignee(cases, desk):
    settled()
    desk.clock.now = at(29)
    moved = DisputeCase.objects.filter(decided_at__isnull=False).first()
    moved.assignee = desk.other if moved.assignee_id == desk.me.pk else desk.me
    moved.save()
    assert_exact(now=timezone.now() + dt.timedelta(minutes=2))


def test_a_deleted_case_leaves_its_days(cases, desk):
    settled()
    desk.clock.now = at(29)
    DisputeCase.objects.filter(decided_at__isnull=True).first().delete()
    assert_exact(now=timezone.now() + dt.timedelta(minutes=2))


def test_a_specialist_reads_their_own_decisions(cases, desk):
    rollups_refresh()
    spans = spans_of(UTC)
    mine = CASES.counts(spans, DECIDED, by=("decided_by",), decided_by=desk.other.pk)
    assert mine and {row["decided_by"] for row in mine} == {desk.other.pk}
    assert sum(row["n"] for row in mine) == sum(
        n for key, n in raw(spans, DECIDED).items() if key[5] == desk.other.pk
    )
