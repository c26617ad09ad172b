"""Disputes: cases opened and decided, the outcome mix, amendments and four-eyes approvals with
their wait, against cases filed and decided through the services at pinned times."""

from decimal import Decimal

import pytest

from accounts.tests.factories import make_account, specialist_user
from disputes.models import Decision, DisputeCase
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import CitationInput, decision_approve, dispute_decide, dispute_file
from disputes.tests.factories import RULE, gamma_market
from reports.metrics import disputes
from reports.metrics.base import ReportContext
from reports.rollups import rollups_refresh
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.tests.factories import NOVEMBER, at
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db
BIG, SMALL = Decimal("20000"), Decimal("100")  # above and below the four-eyes threshold
MARKET, ORDER, PLATFORM = "market_resolution", "order_execution", "platform_mechanics"


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=NOVEMBER.previous())


class Desk:
    """Files, decides and approves cases at chosen instants, through the services."""

    def __init__(self, monkeypatch):
        self.clock = pinned_time(monkeypatch, at(1, month=10))
        self.me, self.other = specialist_user(username="me"), specialist_user(username="other")
        self.market = market_upsert_from_gamma(data=gamma_market(), by=self.me).market
        self.account = make_account(owner=self.me, display_name="Dana Whitfield")

    def file(self, when, *, category=MARKET, assignee=None, amount=SMALL, venue=None) -> DisputeCase:
        self.clock.now = when
        case = dispute_file(
            by=self.me,
            account=self.account,
            category=category,
            market=self.market,
            claim="Wrong source.",
            amount_at_stake=amount,
            assignee=assignee,
        )
        if venue:
            DisputeCase.objects.filter(pk=case.pk).update(venue=venue)
        return case

    def decide(self, when, case, outcome, *, by=None, amendment_reason="") -> Decision:
        self.clock.now = when
        case.refresh_from_db()
        return dispute_decide(
            case=case,
            by=by or self.me,
            outcome=outcome,
            rationale="Per the rules.",
            citations=[CitationInput(excerpt=RULE, market_rule_version=self.market.current_version)],
            amendment_reason=amendment_reason,
            consistency_note="This case differs.",
        )

    def approve(self, when, decision, *, by) -> Decision:
        self.clock.now = when
        return decision_approve(decision=decision, by=by)


@pytest.fixture
def desk(monkeypatch):
    return Desk(monkeypatch)


@pytest.fixture
def docket(desk):
    """October (the previous period from 2 Oct 00:00) and November cases, each an edge."""
    me, other = desk.me, desk.other
    cases = {}
    # Filed in October, decided in October, amended in November: decided (and amended) in November.
    cases["c1"] = desk.file(at(20, month=10), category=ORDER, assignee=me)
    desk.decide(at(25, month=10), cases["c1"], "denied")
    desk.decide(at(3), cases["c1"], "upheld", amendment_reason="New evidence.")
    # Filed at the first instant of November.
    cases["c2"] = desk.file(at(1, 0), assignee=me)
    desk.decide(at(10), cases["c2"], "denied")
    # Four eyes: proposed by other, approved by me an hour later.
    cases["c3"] = desk.file(at(5), category=ORDER, assignee=other, amount=BIG, venue="us")
    desk.approve(at(6, 13), desk.decide(at(6, 12), cases["c3"], "partially_upheld", by=other), by=me)
    # Four eyes, unassigned: three hours' wait.
    cases["c4"] = desk.file(at(7), category=PLATFORM, amount=BIG)
    desk.approve(at(8, 3), desk.decide(at(8, 0), cases["c4"], "upheld"), by=other)
    # Filed at the last minute of November, and at the first instant after it.
    cases["c5"] = desk.file(at(30, 23, 59), assignee=me)
    cases["c6"] = desk.file(at(1, 0, month=12), assignee=me)
    # Filed at the previous period's first instant; approved after 30 minutes.
    cases["c7"] = desk.file(at(2, 0, month=10), assignee=me, amount=BIG)
    desk.approve(at(3, 12, 30, month=10), desk.decide(at(3, 12, month=10), cases["c7"], "denied"), by=other)
    # A proposal still waiting: neither decided nor approved.
    cases["c8"] = desk.file(at(20), amount=BIG, assignee=other)
    desk.decide(at(21), cases["c8"], "denied", by=other)
    return cases


def figure(section, key):
    return next(f for f in section.figures if f.key == key)


def breakdown(section, key):
    return next(b for b in section.breakdowns if b.key == key)


def rows_of(key, period=NOVEMBER, specialist=None, **filters):
    listing = row_list(key)
    return listing.rows(
        RowQuery(period=period, filters=parse_filters(listing, filters), specialist=specialist)
    )


def counted_of(key, period=NOVEMBER, specialist=None, **filters):
    """What the list page counts for its pages (the rows without their naming joins)."""
    listing = row_list(key)
    return listing.counted(
        RowQuery(period=period, filters=parse_filters(listing, filters), specialist=specialist)
    )


def refs(queryset):
    return sorted(queryset.values_list("reference", flat=True))


def ref(docket, *names):
    return sorted(docket[name].reference for name in names)


def test_counts_this_period_and_the_previous(ctx, docket):
    section = disputes.build(ctx)

    values = {
        key: (figure(section, key).value, figure(section, key).previous)
        for key in ("opened", "decided", "amended", "approvals")
    }
    assert values == {"opened": (5, 2), "decided": (4, 1), "amended": (1, 0), "approvals": (2, 1)}
    assert refs(rows_of("cases-opened")) == ref(docket, "c2", "c3", "c4", "c5", "c8")
    assert refs(rows_of("cases-opened", period=NOVEMBER.previous())) == ref(docket, "c1", "c7")
    assert refs(rows_of("cases-decided-by-outcome")) == ref(docket, "c1", "c2", "c3", "c4")
    assert refs(rows_of("amended-decisions")) == ref(docket, "c1")
    assert refs(rows_of("approvals")) == ref(docket, "c3", "c4")


def test_approval_wait_median_and_p90(ctx, docket):
    section = disputes.build(ctx)

    median, p90 = figure(section, "approval_wait_median"), figure(section, "approval_wait_p90")
    assert (median.value, median.previous, median.sample) == (pytest.approx(7200), pytest.approx(1800), 2)
    assert (p90.value, p90.previous) == (pytest.approx(3600 + 0.9 * 7200), pytest.approx(1800))
    waits = sorted(row.wait_minutes for row in rows_of("approvals"))
    assert waits == [pytest.approx(60), pytest.approx(180)]


def test_outcome_mix_counts_the_decision_in_force(ctx, docket):
    mix = breakdown(disputes.build(ctx), "disputes-outcome")

    assert [(label, [c.value for c in cells]) for label, cells in mix.rows] == [
        ("Upheld", [2, 50.0, 0.0]),
        ("Denied", [1, 25.0, 100.0]),
        ("Partially upheld", [1, 25.0, 0.0]),
        ("Referred", [0, 0.0, 0.0]),
    ]
    assert refs(rows_of("cases-decided-by-outcome", outcome="upheld")) == ref(docket, "c1", "c4")
    assert [row.outcome for row in rows_of("cases-decided-by-outcome", outcome="upheld")] == ["upheld"] * 2
    # c1's superseded decision was "denied": only the decision in force counts.
    assert refs(rows_of("cases-decided-by-outcome", outcome="denied")) == ref(docket, "c2")


def test_breakdowns_by_category_venue_and_specialist(ctx, docket, desk):
    section = disputes.build(ctx)

    by_category = breakdown(section, "disputes-category")
    assert [(label, [c.value for c in cells]) for label, cells in by_category.rows] == [
        ("Market resolution", [3, 1, 1, 1]),
        ("Order execution", [1, 2, 1, 0]),
        ("Platform mechanics", [1, 1, 0, 0]),
    ]
    by_venue = breakdown(section, "disputes-venue")
    assert [(label, cells[0].value, cells[1].value) for label, cells in by_venue.rows] == [
        ("International", 4, 3),
        ("US (regulated)", 1, 1),
    ]
    people = {label: [c.value for c in cells] for label, cells in breakdown(section, "disputes-person").rows}
    assert people == {
        desk.me.get_full_name(): [2, 2, 2, 1],
        desk.other.get_full_name(): [2, 1, 0, 0],
        "Unassigned": [1, 1, 0, 0],
    }
    drill = by_category.rows[1][1][1].drill
    assert (drill.rows, dict(drill.filters)) == ("cases-decided-by-outcome", {"category": ORDER})
    assert refs(rows_of("cases-decided-by-outcome", category=ORDER)) == ref(docket, "c1", "c3")
    assert refs(rows_of("cases-opened", venue="us")) == ref(docket, "c3")
    assert refs(rows_of("cases-opened", person="none")) == ref(docket, "c4")
    assert refs(rows_of("cases-opened", person=str(desk.me.pk))) == ref(docket, "c2", "c5")


def test_weekly_trend_of_opened_and_decided(ctx, docket):
    chart = next(c for c in disputes.build(ctx).charts if c.key == "disputes-trend")
    assert chart.kind == "trend" and chart.x[0].isoformat() == "2026-10-26"
    assert chart.series["Opened"] == [1, 2, 0, 1, 0, 1] and sum(chart.series["Decided"]) == 4
    # c1 (amended 3 Nov), c3 (6 Nov) and c4 (8 Nov) are decided in the week of 2 Nov, c2 (10 Nov) the next.
    assert chart.series["Decided"] == [0, 3, 1, 0, 0, 0]


def test_a_specialist_sees_the_cases_assigned_to_them(docket, desk):
    mine = disputes.build(ReportContext(period=NOVEMBER, previous=NOVEMBER.previous(), specialist=desk.me))

    values = {key: figure(mine, key).value for key in ("opened", "decided", "amended", "approvals")}
    assert values == {"opened": 2, "decided": 2, "amended": 1, "approvals": 0}
    assert figure(mine, "approval_wait_median").value is None
    assert figure(mine, "approval_wait_median").previous == pytest.approx(1800)
    assert not any(b.key == "disputes-person" for b in mine.breakdowns)
    assert refs(rows_of("cases-opened", specialist=desk.me)) == ref(docket, "c2", "c5")
    assert refs(rows_of("approvals", specialist=desk.me)) == []


def test_an_empty_period_has_counts_of_zero_and_no_wait(ctx, desk):
    section = disputes.build(ctx)
    assert figure(section, "opened").value == 0
    assert (figure(section, "approval_wait_p90").value, figure(section, "approval_wait_p90").previous) == (
        None,
        None,
    )
    mix = breakdown(section, "disputes-outcome")
    assert all(cells[1].value is None for _label, cells in mix.rows)


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("cases-opened", {"category": "fraud"}),
        ("cases-opened", {"venue": "eu"}),
        ("cases-opened", {"person": "me"}),
        ("cases-decided-by-outcome", {"outcome": "won"}),
        ("approvals", {"person": "-3"}),
    ],
)
def test_bad_filters_are_refused(key, params):
    with pytest.raises(BadFilter):
        parse_filters(row_list(key), params)


def test_queries_do_not_grow_with_cases(ctx, docket, desk, django_assert_max_num_queries):
    rollups_refresh()
    # The rollups' watermarks (6 × 2), the cases' days counted again when the pinned clock
    # says they changed (a fixed 11 however many, a few more for their weeks), cases opened and
    # decided per period and per week (the whole days of each: 4), decisions taking effect, the
    # approval waits, names.
    with django_assert_max_num_queries(35):
        disputes.build(ctx)
    for day in range(9, 19):
        case = desk.file(at(day), category=ORDER, assignee=specialist_user(), amount=BIG)
        desk.approve(at(day, 14), desk.decide(at(day, 13), case, "referred", by=desk.other), by=desk.me)
    rollups_refresh()
    with django_assert_max_num_queries(35):
        section = disputes.build(ctx)
    assert figure(section, "approvals").value == 12
    for key in ("cases-opened", "cases-decided-by-outcome", "amended-decisions", "approvals"):
        with django_assert_max_num_queries(1):
            list(rows_of(key))


@pytest.mark.parametrize("key", ["amended-decisions", "approvals"])
def test_a_decision_list_counts_its_pages_as_many_as_it_lists(docket, desk, key):
    for filters in ({}, {"category": ORDER}, {"person": desk.me.pk}):
        assert counted_of(key, **filters).count() == rows_of(key, **filters).count()
    assert counted_of(key, specialist=desk.other).count() == rows_of(key, specialist=desk.other).count()
    assert rows_of(key).count() > 0
