"""The feedback loop at scale (issue 23): the first triages and shippings are found from the
period's status changes, each checked against its own item's history, not by reading every
item's history. The same figures as the definition item by item (`_first_status_change`): an
item counts once, at its first change, however often it returns to New."""

import datetime as dt
import itertools

import pytest
from django.db import connection

from feedback.models import FeedbackEvent, FeedbackItem
from feedback.tests.factories import ProductAreaFactory
from portal.tests.plans import query_plan
from reports.metrics import feedback
from reports.metrics.base import ReportContext
from reports.tests.factories import NOVEMBER, at
from reports.tests.test_metrics_feedback import Log, figure, rows_of, titles

pytestmark = pytest.mark.django_db
OCTOBER = NOVEMBER.previous()


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=OCTOBER)


@pytest.fixture
def log(monkeypatch):
    return Log(monkeypatch)


def status_event(item, when, before, after):
    """A status change written straight to the history (two at one instant, as a bulk import
    could leave them, are told apart by their pk)."""
    return FeedbackEvent.objects.create(
        item=item,
        kind="status",
        at=when,
        summary="status",
        before={"status": before},
        after={"status": after},
    )


def test_an_item_back_in_new_counts_once_at_its_first_triage(ctx, log):
    item = log.item(at(20, month=10), "back and forth")
    log.status(at(25, month=10), item, "triaged")
    log.status(at(2), item, "new")
    log.status(at(9), item, "triaged")
    log.status(at(12), item, "new")
    log.status(at(14), item, "shipped")  # straight from New the second time: first shipping

    section = feedback.build(ctx)

    assert (figure(section, "triaged").value, figure(section, "triaged").previous) == (0, 1)
    assert (figure(section, "shipped").value, figure(section, "shipped").previous) == (1, 0)
    assert titles(rows_of("feedback-items", stage="triaged")) == []
    assert titles(rows_of("feedback-items", stage="triaged", period=OCTOBER)) == ["back and forth"]
    (shipped,) = rows_of("feedback-items", stage="shipped")
    assert (shipped.triaged, shipped.shipped) == (at(25, month=10), at(14))
    # Logged → triaged over October's first triage only (5 days), triaged → shipped from it (20 days).
    assert figure(section, "wait_logged_triaged").previous == 5 * 86400
    assert figure(section, "wait_logged_triaged").value is None
    assert figure(section, "wait_triaged_shipped").value == 20 * 86400


def test_two_changes_at_one_instant_count_once(ctx, log):
    item = log.item(at(1, month=10), "twice at once")
    status_event(item, at(3), "new", "triaged")
    status_event(item, at(3), "new", "planned")
    status_event(item, at(4), "planned", "shipped")
    status_event(item, at(4), "in_progress", "shipped")

    section = feedback.build(ctx)

    assert figure(section, "triaged").value == 1
    assert figure(section, "shipped").value == 1
    assert figure(section, "wait_triaged_shipped").value == 86400
    assert [row.title for row in rows_of("feedback-items", stage="triaged")] == ["twice at once"]
    assert [row.title for row in rows_of("feedback-items", stage="shipped")] == ["twice at once"]


def _histories(log):
    """Items of many shapes over September to December: triaged once, again after a return to
    New, shipped straight from New, never touched; in two categories and three areas."""
    areas = [None, ProductAreaFactory(name="Wallets"), ProductAreaFactory(name="Order book")]
    paths = [
        [],
        ["triaged"],
        ["triaged", "planned", "shipped"],
        ["shipped"],
        ["triaged", "new", "triaged", "shipped"],
        ["planned", "new", "shipped", "new", "declined"],
    ]
    shapes = itertools.product(range(12), paths)
    for n, (start, path) in enumerate(shapes):
        logged = at(1, month=9) + dt.timedelta(days=7 * start + n % 5, hours=n % 7)
        item = log.item(
            logged,
            f"item {n}",
            category=("bug", "fees")[n % 2],
            area=areas[n % 3],
        )
        for step, status in enumerate(path, start=1):
            log.status(logged + dt.timedelta(days=4 * step, hours=n % 3), item, status)


def _by_the_definition(ctx):
    """The counts read item by item, as the family read them before issue 23."""
    items = FeedbackItem.objects.annotate(
        triaged_at=feedback._first_status_change(**feedback.TRIAGE),
        shipped_at=feedback._first_status_change(**feedback.SHIPPING),
    ).filter(created_at__lt=ctx.period.end)
    counts = {}
    for item in items:
        for stage, when in (
            ("logged", item.created_at),
            ("triaged", item.triaged_at),
            ("shipped", item.shipped_at),
        ):
            for key, period in (("now", ctx.period), ("before", ctx.previous)):
                if when is not None and period.start <= when < period.end:
                    counts[stage, key] = counts.get((stage, key), 0) + 1
    return counts


def test_the_figures_match_the_definition_item_by_item(ctx, log):
    _histories(log)
    section = feedback.build(ctx)

    expected = _by_the_definition(ctx)
    for stage in ("logged", "triaged", "shipped"):
        found = figure(section, stage)
        assert (found.value, found.previous) == (
            expected.get((stage, "now"), 0),
            expected.get((stage, "before"), 0),
        )
        assert rows_of("feedback-items", stage=stage).count() == found.value
        assert rows_of("feedback-items", stage=stage, period=OCTOBER).count() == found.previous
    assert expected[("triaged", "now")] > 5 and expected[("shipped", "now")] > 5


def test_the_queries_do_not_grow_with_the_items(ctx, log, django_assert_max_num_queries):
    _histories(log)
    with django_assert_max_num_queries(8) as few:
        feedback.build(ctx)
    for n in range(20):
        item = log.item(at(2 + n), f"more {n}", area=ProductAreaFactory())
        log.status(at(3 + n), item, "triaged")
        log.status(at(4 + n), item, "new")
        log.status(at(5 + n), item, "shipped")
    with django_assert_max_num_queries(len(few.captured_queries)):
        feedback.build(ctx)
    for stage in feedback.STAGES:
        with django_assert_max_num_queries(1):
            list(rows_of("feedback-items", stage=stage))


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite leaves a partial index to literal values"
)
def test_the_periods_status_changes_are_read_through_their_index(ctx, log):
    _histories(log)
    start, end = ctx.span
    item = FeedbackItem.objects.order_by("pk").first()
    for condition in (feedback.TRIAGE, feedback.SHIPPING):
        found = query_plan(feedback.first_changes(condition, start, end))
        assert "feedbackevent_status_at_idx" in found, found
        # Whether a change is its item's first: the item's status changes up to it, by their index.
        earlier = FeedbackEvent.objects.filter(item=item, kind="status", at__lte=end, **condition)
        found = query_plan(earlier)
        assert "feedbackevent_item_status_idx" in found, found
