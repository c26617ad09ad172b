"""The feedback loop at scale (issue 23): each item keeps its first triage and first shipping
(feedback.services), the reports count them from daily rollups (rollups.feedback) and read the
median waits from one band's rows. The same figures as the definition item by item, read from
the items' status history (`_first_status_change`): an item counts once, at its first change,
however often it returns to New."""

import datetime as dt
import importlib
import itertools

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import OuterRef, Subquery

from feedback.models import FeedbackEvent, FeedbackItem
from feedback.tests.factories import ProductAreaFactory
from portal.tests.plans import query_plan
from reports.metrics import feedback
from reports.metrics.base import ReportContext, in_period
from reports.rollups import rollups_caught_up
from reports.rollups.feedback import follow_ups_with_waits, items_with_waits
from reports.tests.factories import NOVEMBER, at
from reports.tests.test_metrics_feedback import MOST_QUERIES, Log, figure, rows_of, titles

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
    assert (shipped.triaged_at, shipped.shipped_at) == (at(25, month=10), at(14))
    # Logged → triaged over October's first triage only (5 days), triaged → shipped from it (20 days).
    assert figure(section, "wait_logged_triaged").previous == 5 * 86400
    assert figure(section, "wait_logged_triaged").value is None
    assert figure(section, "wait_triaged_shipped").value == 20 * 86400


def test_the_migration_fills_them_from_the_history_two_changes_at_one_instant_once(ctx, log):
    item = log.item(at(1, month=10), "twice at once")
    status_event(item, at(3), "new", "triaged")
    status_event(item, at(3), "new", "planned")
    status_event(item, at(4), "planned", "shipped")
    status_event(item, at(4), "in_progress", "shipped")
    untouched = log.item(at(2, month=10), "never triaged")
    migration = importlib.import_module("feedback.migrations.0004_first_triage_and_shipping")

    migration.fill_from_history(apps, None)

    item.refresh_from_db()
    assert (item.triaged_at, item.shipped_at) == (at(3), at(4))
    untouched.refresh_from_db()
    assert (untouched.triaged_at, untouched.shipped_at) == (None, None)
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


def _first_status_change(**condition):
    """The instant of an item's first status change meeting `condition`, from its history."""
    changes = FeedbackEvent.objects.filter(item=OuterRef("pk"), kind="status", **condition)
    return Subquery(changes.order_by("at", "pk").values("at")[:1])


def _by_the_definition(ctx):
    """The counts read item by item from the items' history, as the family read them before
    issue 23."""
    items = FeedbackItem.objects.annotate(
        first_triage=_first_status_change(before__status="new"),
        first_shipping=_first_status_change(after__status="shipped"),
    ).filter(created_at__lt=ctx.period.end)
    counts = {}
    for item in items:
        for stage, when in (
            ("logged", item.created_at),
            ("triaged", item.first_triage),
            ("shipped", item.first_shipping),
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
    with rollups_caught_up(), django_assert_max_num_queries(MOST_QUERIES):
        feedback.build(ctx)
    for n in range(20):
        item = log.item(at(2 + n), f"more {n}", area=ProductAreaFactory())
        log.status(at(3 + n), item, "triaged")
        log.status(at(4 + n), item, "new")
        log.status(at(5 + n), item, "shipped")
    with rollups_caught_up(), django_assert_max_num_queries(MOST_QUERIES):
        feedback.build(ctx)
    for stage in feedback.STAGES:
        with django_assert_max_num_queries(1):
            list(rows_of("feedback-items", stage=stage))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL plan")
def test_a_periods_rows_are_read_through_their_index(ctx, log):
    """The medians' band reads and the hours at a period's edges read the period's rows alone."""
    _histories(log)
    for field, index in (("triaged_at", "feedback_triaged_idx"), ("shipped_at", "feedback_shipped_idx")):
        found = query_plan(items_with_waits().filter(in_period(field, NOVEMBER)).order_by("triage_wait"))
        assert index in found, found
    found = query_plan(follow_ups_with_waits().filter(in_period("done_at", NOVEMBER)))
    assert "feedback_follow_up_done_idx" in found, found
    band_reads = (
        (items_with_waits, "triaged_at", "triage_band", "triage_wait", "feedback_triage_band_idx"),
        (items_with_waits, "shipped_at", "ship_band", "ship_wait", "feedback_ship_band_idx"),
        (follow_ups_with_waits, "done_at", "told_band", "told_wait", "feedback_follow_up_band_idx"),
    )
    for rows_of_, field, band, wait, index in band_reads:
        one_band = rows_of_().filter(in_period(field, NOVEMBER), **{band: 8}).order_by(wait)
        found = query_plan(one_band.values_list(wait))
        assert index in found and "Index Only Scan" in found, found
