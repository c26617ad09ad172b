"""The feedback loop's daily rollups (rollups.feedback) stay exact as items and follow-ups change
after they were counted: a later triage, an item moved to another area (its users told move with
it), a deleted item; and a rebuild counts the same."""

import datetime as dt

import pytest

from feedback import services
from feedback.models import FeedbackItem
from feedback.tests.factories import ProductAreaFactory
from reports.metrics import feedback
from reports.metrics.base import ReportContext
from reports.models import FeedbackDay, FollowUpDay
from reports.rollups import rollups_rebuild
from reports.tests.factories import NOVEMBER, at
from reports.tests.test_metrics_feedback import Log, figure

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=NOVEMBER.previous())


@pytest.fixture
def log(monkeypatch):
    return Log(monkeypatch)


def told_by_area(section) -> dict:
    by_area = next(b for b in section.breakdowns if b.key == "feedback-area")
    return {label: cells[3].value for label, cells in by_area.rows}


def test_a_later_triage_is_counted_after_the_first_report(ctx, log):
    item = log.item(at(2), "late")
    assert figure(feedback.build(ctx), "triaged").value == 0

    log.status(at(5) + dt.timedelta(hours=3), item, "triaged")

    section = feedback.build(ctx)
    assert figure(section, "triaged").value == 1
    assert figure(section, "wait_logged_triaged").value == 3 * 86400 + 3 * 3600


def test_users_told_move_with_their_item_to_another_area(ctx, log):
    wallets, book = ProductAreaFactory(name="Wallets"), ProductAreaFactory(name="Order book")
    item = log.item(at(2), "moves", raised=True, area=wallets)
    log.status(at(3), item, "shipped")
    log.tell(at(4), item)
    log.clock.now = at(5)  # counted a day after: nothing about the follow-up changed since
    assert told_by_area(feedback.build(ctx)) == {"Wallets": 1}

    log.clock.now = at(6)
    services.item_triage(item=item, by=log.product, area=book)

    assert told_by_area(feedback.build(ctx)) == {"Order book": 1}


def test_a_deleted_item_leaves_the_counts(ctx, log):
    kept, gone = log.item(at(2), "kept"), log.item(at(3), "gone", raised=True)
    log.status(at(4), gone, "shipped")
    log.tell(at(5), gone)
    section = feedback.build(ctx)
    assert (figure(section, "logged").value, figure(section, "told").value) == (2, 1)

    FeedbackItem.objects.filter(pk=gone.pk).get().delete()

    section = feedback.build(ctx)
    assert (figure(section, "logged").value, figure(section, "shipped").value) == (1, 0)
    assert figure(section, "told").value == 0
    assert kept.pk


def test_a_rebuild_counts_the_same(ctx, log):
    for day in range(2, 9):
        item = log.item(at(day), f"item {day}", raised=True)
        log.status(at(day, 12), item, "triaged")
        log.status(at(day + 3), item, "shipped")
        log.tell(at(day + 5), item)
    before = feedback.build(ctx)
    counted = sorted(FeedbackDay.objects.values_list("day", "event", "band", "items", "days"))

    rollups_rebuild()

    after = feedback.build(ctx)
    assert sorted(FeedbackDay.objects.values_list("day", "event", "band", "items", "days")) == counted
    assert FollowUpDay.objects.filter(event="told").exists()
    assert [(f.key, f.value, f.previous) for f in after.figures] == [
        (f.key, f.value, f.previous) for f in before.figures
    ]
    assert figure(after, "told").value == 7
