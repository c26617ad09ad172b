"""The feedback loop: items logged, triaged and shipped, users told, the median waits between,
read from the items' history as the services write it at pinned times."""

import pytest

from accounts.tests.factories import make_account, specialist_user
from feedback import services
from feedback.models import FeedbackItem, FollowUp
from feedback.tests.factories import FeedbackItemFactory, ProductAreaFactory
from portal.roles import Role
from portal.tests.factories import UserFactory
from reports.metrics import feedback
from reports.metrics.base import ReportContext
from reports.rollups import rollups_caught_up
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.tests.factories import NOVEMBER, at
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db
DAY = 86400
# With the rollups caught up (a report does it once for every family), whatever the number of
# items: each stage's whole days and the hours at the periods' edges (4 × 2); the medians' reads,
# two for each of the six (a rank and the next, when the next opens another band: one query in
# all on PostgreSQL, each its own on SQLite); the areas' names.
MOST_QUERIES = 4 * 2 + 6 * 2 + 1


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=NOVEMBER.previous())


class Log:
    """Logs, triages and closes the loop on feedback at chosen instants, through the services."""

    def __init__(self, monkeypatch):
        self.clock = pinned_time(monkeypatch, at(1, month=10))
        self.owner = specialist_user(username="owner")
        self.product = UserFactory(username="pm", roles=[Role.PRODUCT])

    def item(self, when, title, *, raised=False, **fields) -> FeedbackItem:
        self.clock.now = when
        account = make_account(owner=self.owner, display_name=f"Trader of {title}") if raised else None
        return FeedbackItemFactory(created_by=self.owner, title=title, account=account, **fields)

    def status(self, when, item, status):
        self.clock.now = when
        return services.item_triage(item=item, by=self.product, status=status)

    def tell(self, when, item):
        self.clock.now = when
        return services.follow_up_complete(follow_up=FollowUp.objects.get(item=item), by=self.owner)


@pytest.fixture
def log(monkeypatch):
    return Log(monkeypatch)


@pytest.fixture
def loop(log):
    area = ProductAreaFactory(name="Order book")
    items = {}
    # Logged and triaged in October, shipped 14 days after triage in November, the user told a day later.
    items["i1"] = log.item(at(20, month=10), "i1", raised=True)
    log.status(at(22, month=10), items["i1"], "triaged")
    log.status(at(5), items["i1"], "shipped")
    log.tell(at(6), items["i1"])
    # Logged at November's first instant, triaged two days later, reopened and triaged again.
    items["i2"] = log.item(at(1, 0), "i2")
    log.status(at(3, 0), items["i2"], "planned")
    log.status(at(4), items["i2"], "new")
    log.status(at(10), items["i2"], "triaged")
    # Shipped straight from New a day after logging; the user is told in December.
    items["i3"] = log.item(at(10), "i3", raised=True, category="bug", area=area)
    log.status(at(11), items["i3"], "shipped")
    log.tell(at(2, month=12), items["i3"])
    # Logged at November's last minute and at the first instant after it.
    items["i4"] = log.item(at(30, 23, 59), "i4", area=area)
    items["i5"] = log.item(at(1, 0, month=12), "i5")
    # October: triaged in six hours, declined, the user told ten days later.
    items["i6"] = log.item(at(5, month=10), "i6", raised=True)
    log.status(at(5, 18, month=10), items["i6"], "triaged")
    log.status(at(10, month=10), items["i6"], "declined")
    log.tell(at(20, month=10), items["i6"])
    return area, items


def figure(section, key):
    return next(f for f in section.figures if f.key == key)


def rows_of(key, period=NOVEMBER, **filters):
    listing = row_list(key)
    return listing.rows(RowQuery(period=period, filters=parse_filters(listing, filters)))


def titles(queryset, field="title"):
    return sorted(queryset.values_list(field, flat=True))


def test_each_stage_counted_at_its_first_time(ctx, loop):
    section = feedback.build(ctx)

    values = {
        key: (figure(section, key).value, figure(section, key).previous)
        for key in ("logged", "triaged", "shipped", "told")
    }
    assert values == {"logged": (3, 2), "triaged": (2, 2), "shipped": (2, 0), "told": (1, 1)}
    assert titles(rows_of("feedback-items")) == ["i2", "i3", "i4"]
    assert titles(rows_of("feedback-items", stage="triaged")) == ["i2", "i3"]
    assert titles(rows_of("feedback-items", stage="triaged", period=NOVEMBER.previous())) == ["i1", "i6"]
    assert titles(rows_of("feedback-items", stage="shipped")) == ["i1", "i3"]
    assert titles(rows_of("feedback-follow-ups"), "item__title") == ["i1"]
    assert titles(rows_of("feedback-follow-ups", period=NOVEMBER.previous()), "item__title") == ["i6"]


def test_the_median_waits_between_stages(ctx, loop):
    section = feedback.build(ctx)

    triage = figure(section, "wait_logged_triaged")
    assert (triage.value, triage.previous, triage.sample) == (1.5 * DAY, (0.25 + 2) / 2 * DAY, 2)
    shipping = figure(section, "wait_triaged_shipped")
    assert (shipping.value, shipping.previous) == (7 * DAY, None)  # 14 days and 0
    told = figure(section, "wait_shipped_told")
    assert (told.value, told.previous, told.sample) == (DAY, 10 * DAY, 1)
    listed = rows_of("feedback-items", stage="triaged").get(title="i2")
    assert listed.triaged_at == at(3, 0)


def test_breakdowns_by_category_and_area(ctx, loop):
    area, _items = loop
    section = feedback.build(ctx)
    by = {b.key: b for b in section.breakdowns}

    assert [(label, [c.value for c in cells]) for label, cells in by["feedback-category"].rows] == [
        ("Bug", [1, 1, 1, 0]),
        ("Fees and costs", [2, 1, 1, 1]),
    ]
    assert [(label, [c.value for c in cells]) for label, cells in by["feedback-area"].rows] == [
        ("Order book", [2, 1, 1, 0]),
        ("No area", [1, 1, 1, 1]),
    ]
    drill = by["feedback-area"].rows[0][1][2].drill
    assert (drill.rows, dict(drill.filters)) == ("feedback-items", {"stage": "shipped", "area": str(area.pk)})
    assert titles(rows_of("feedback-items", stage="shipped", area=str(area.pk))) == ["i3"]
    assert titles(rows_of("feedback-items", area="none")) == ["i2"]
    assert titles(rows_of("feedback-follow-ups", category="fees"), "item__title") == ["i1"]


def test_an_empty_period_has_no_waits(ctx, log):
    section = feedback.build(ctx)
    assert figure(section, "logged").value == 0
    waits = [f for f in section.figures if f.unit == "seconds"]
    assert [(f.value, f.previous, f.sample) for f in waits] == [(None, None, 0)] * 3


def test_product_sees_no_email_wallet_or_case_in_the_lists(loop):
    assert feedback.FAMILY.per_person is False
    assert Role.PRODUCT in feedback.FAMILY.roles
    for key in ("feedback-items", "feedback-follow-ups"):
        paths = [column.value_path for column in row_list(key).columns]
        assert not any(word in path for path in paths for word in ("email", "wallet", "dispute", "case"))
    told = rows_of("feedback-follow-ups").values_list("account__display_name", flat=True)
    assert list(told) == ["Trader of i1"]


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("feedback-items", {"stage": "told"}),
        ("feedback-items", {"category": "rant"}),
        ("feedback-follow-ups", {"area": "order-book"}),
    ],
)
def test_bad_filters_are_refused(key, params):
    with pytest.raises(BadFilter):
        parse_filters(row_list(key), params)


def test_queries_do_not_grow_with_items(ctx, loop, log, django_assert_max_num_queries):
    with rollups_caught_up(), django_assert_max_num_queries(MOST_QUERIES):
        feedback.build(ctx)
    for day in range(12, 22):
        item = log.item(at(day), f"more {day}", raised=True, area=ProductAreaFactory())
        log.status(at(day, 14), item, "shipped")
        log.tell(at(day, 16), item)
    with rollups_caught_up(), django_assert_max_num_queries(MOST_QUERIES):
        section = feedback.build(ctx)
    assert figure(section, "told").value == 11
    for key in ("feedback-items", "feedback-follow-ups"):
        with django_assert_max_num_queries(1):
            list(rows_of(key))
