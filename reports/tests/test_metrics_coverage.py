"""Portfolio coverage: the on-time share read at each period's end, overdue now by tier and
owner, the accounts behind each number, a Specialist's own portfolio, bounded queries."""

import pytest

from accounts.models import Account
from accounts.tests.factories import make_account, make_check_in, specialist_user
from reports.metrics import coverage
from reports.metrics.base import ReportContext
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.tests.factories import NOVEMBER, at
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db
NOW = at(4, 12, month=12)  # after November: the period is read at its end, 1 December 00:00


@pytest.fixture
def ctx():
    return ReportContext(period=NOVEMBER, previous=NOVEMBER.previous())


@pytest.fixture
def clock(monkeypatch):
    return pinned_time(monkeypatch, NOW)


def figure(section, key):
    return next(f for f in section.figures if f.key == key)


def rows_of(key, period=NOVEMBER, specialist=None, **filters):
    listing = row_list(key)
    return listing.rows(
        RowQuery(period=period, filters=parse_filters(listing, filters), specialist=specialist)
    )


def names(queryset):
    return sorted(queryset.values_list("display_name", flat=True))


def account(clock, name, *, created, check_ins=(), owner=None, tier_rank=1, **fields):
    """An account created at `created` with check-ins at the given instants, then the clock back
    to NOW (a weekly tier unless told: 7 days' cadence)."""
    clock.now = created
    made = make_account(display_name=name, owner=owner, tier_rank=tier_rank, **fields)
    for when in check_ins:
        clock.now = max(when, created)
        make_check_in(made, occurred_at=when)
    clock.now = NOW
    return made


@pytest.fixture
def portfolio(clock):
    """Six active accounts in November's end portfolio, four of them there a month before."""
    me, other = specialist_user(username="me"), specialist_user(username="other")
    october = at(1, month=10)
    made = {
        # on time at 1 Dec (6 days); at 1 Nov 31 days since creation: late. Overdue now (due 2 Dec).
        "A": account(clock, "A", created=october, check_ins=[at(25)], owner=me),
        # exactly 7 days at 1 Dec: on time (the boundary counts); on time at 1 Nov too (4 days).
        "B": account(clock, "B", created=october, check_ins=[at(28, month=10), at(24, 0)], owner=me),
        # a minute over 7 days at 1 Dec: late; the check-in of 2 Dec is after the instant.
        "C": account(clock, "C", created=october, check_ins=[at(23, 23, 59), at(2, month=12)], owner=other),
        # created 10 Nov, never checked in: late at 1 Dec, not in the portfolio on 1 Nov.
        "D": account(clock, "D", created=at(10), owner=other, tier_rank=2),
        # created 28 Nov: not yet due at 1 Dec.
        "E": account(clock, "E", created=at(28), owner=me),
        # its own 30-day cadence: on time at 1 Dec (26 days); late on 1 Nov (31 days).
        "F": account(clock, "F", created=october, check_ins=[at(5)], owner=me, cadence_override_days=30),
        # paused: in no figure.
        "G": account(clock, "G", created=october, owner=me),
        # created after the period: in no figure of it.
        "H": account(clock, "H", created=at(2, month=12), owner=me),
    }
    Account.objects.filter(pk=made["G"].pk).update(status=Account.Status.PAUSED, next_check_in_due=None)
    return me, other, made


def test_on_time_share_is_read_at_each_periods_end(ctx, portfolio):
    section = coverage.build(ctx)

    on_time = figure(section, "on_time")
    assert (on_time.value, on_time.sample) == (pytest.approx(100 * 4 / 6), 6)
    assert on_time.previous == 25.0  # B of A, B, C, F
    assert names(rows_of("coverage-accounts", state="late")) == ["C", "D"]
    assert names(rows_of("coverage-accounts", state="on-time")) == ["A", "B", "E", "F"]
    assert names(rows_of("coverage-accounts")) == ["A", "B", "C", "D", "E", "F"]
    assert names(rows_of("coverage-accounts", period=NOVEMBER.previous(), state="on-time")) == ["B"]


def test_overdue_now_uses_the_portfolios_definition(ctx, portfolio):
    _me, other, _made = portfolio

    overdue = figure(coverage.build(ctx), "overdue")

    # A due 2 Dec, B due 1 Dec, D (fortnightly) due 24 Nov; C due 9 Dec, E 5 Dec, F 5 Dec, H 9 Dec.
    assert (overdue.value, overdue.previous) == (3, None)
    listed = rows_of("overdue-accounts")
    assert [row.display_name for row in listed] == ["D", "B", "A"]
    assert [row.days_overdue for row in listed] == [10, 3, 2]
    assert listed[0].owner_name == other.get_full_name()
    assert listed[0].last_check_in_at is None


def test_a_period_still_running_is_read_now(clock, portfolio):
    running = ReportContext(period=NOVEMBER, previous=NOVEMBER.previous())
    clock.now = at(26, 12)  # A checked in yesterday, B two days ago; C and D late; E not created
    assert coverage.instant_of(running.period, clock.now) == clock.now
    on_time = figure(coverage.build(running), "on_time")
    assert on_time.sample == 5  # A, B, C, D, F (H and E do not exist yet)


def test_breakdowns_by_tier_and_owner_with_drills(ctx, portfolio):
    me, other, made = portfolio
    section = coverage.build(ctx)
    by_tier = {b.key: b for b in section.breakdowns}["coverage-tier"]
    by_owner = {b.key: b for b in section.breakdowns}["coverage-owner"]

    tier1, tier2 = made["A"].tier, made["D"].tier
    assert [(label, [c.value for c in cells]) for label, cells in by_tier.rows] == [
        (tier1.name, [5, 80.0, 25.0, 2]),
        (tier2.name, [1, 0.0, None, 1]),
    ]
    assert [(label, cells[0].value, cells[3].value) for label, cells in by_owner.rows] == sorted(
        [(me.get_full_name(), 4, 2), (other.get_full_name(), 2, 1)]
    )
    drill = by_tier.rows[1][1][3].drill
    assert drill.rows == "overdue-accounts" and dict(drill.filters) == {"tier": str(tier2.pk)}
    assert names(rows_of("overdue-accounts", tier=str(tier2.pk))) == ["D"]
    assert names(rows_of("overdue-accounts", owner=str(me.pk))) == ["A", "B"]
    assert names(rows_of("coverage-accounts", state="late", tier=str(tier1.pk))) == ["C"]


def test_a_specialist_sees_their_own_portfolio(portfolio):
    me, _other, _made = portfolio
    mine = coverage.build(ReportContext(period=NOVEMBER, previous=NOVEMBER.previous(), specialist=me))

    assert figure(mine, "overdue").value == 2
    assert figure(mine, "on_time").sample == 4
    assert [b.key for b in mine.breakdowns] == ["coverage-tier"]
    assert names(rows_of("overdue-accounts", specialist=me)) == ["A", "B"]
    assert names(rows_of("coverage-accounts", specialist=me, state="late")) == []


def test_an_empty_portfolio_has_no_share(ctx, clock):
    section = coverage.build(ctx)
    assert (figure(section, "on_time").value, figure(section, "on_time").previous) == (None, None)
    assert figure(section, "overdue").value == 0
    assert all(not b.rows for b in section.breakdowns)


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("overdue-accounts", {"tier": "gold"}),
        ("overdue-accounts", {"owner": "-1"}),
        ("coverage-accounts", {"state": "overdue"}),
    ],
)
def test_bad_filters_are_refused(key, params):
    with pytest.raises(BadFilter):
        parse_filters(row_list(key), params)


def test_queries_do_not_grow_with_accounts(ctx, clock, django_assert_max_num_queries):
    owners = [specialist_user() for _ in range(3)]
    for n in range(12):
        account(clock, f"X{n}", created=at(1 + n, month=10), check_ins=[at(1 + n)], owner=owners[n % 3])
    # cadences in use, the one count over the accounts, tiers, owners' names
    with django_assert_max_num_queries(5):
        section = coverage.build(ctx)
    assert figure(section, "on_time").sample == 12
    with django_assert_max_num_queries(3):  # cadences in use, the rows
        assert len(list(rows_of("coverage-accounts", state="late"))) == 12
