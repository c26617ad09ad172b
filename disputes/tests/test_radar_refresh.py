"""The radar's refreshes from Gamma (issue 22): markets Tier 1 accounts hold are re-fetched between
the hourly runs, within a time budget and at a fixed query cost per market; a market Gamma no
longer knows (404) is marked gone once, kept as it was, asked again once a day, and raises no
signal. Gamma is answered by `responses` with the recorded payload `market_open.json`."""

import datetime as dt
import itertools
from decimal import Decimal
from unittest import mock

import pytest
import requests
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Exposure
from accounts.tests.factories import make_account, make_exposure
from disputes import tasks
from disputes.models import HeadsUp, Market, MarketSignal
from disputes.services import markets_refresh
from disputes.services.cases import dispute_file
from disputes.services.markets import market_upsert_from_gamma, tier_one_markets_refresh
from disputes.tests.factories import gamma_payload
from integrations.polymarket.gamma import parse_market
from portal.schedules import SCHEDULES

pytestmark = pytest.mark.django_db
GAMMA = "https://gamma-api.polymarket.com"
_ids = itertools.count(1)


def gamma_raw(n: int, **changes) -> dict:
    payload = gamma_payload("market_open.json")
    return {
        **payload,
        "id": str(9_100_000 + n),
        "slug": f"{payload['slug']}-{n}",
        "conditionId": f"0x{n:064x}",
        **changes,
    }


def imported(n: int, *, fetched_ago: dt.timedelta, **changes) -> Market:
    """A market imported `fetched_ago`, which Gamma (mocked) answers unchanged from now on."""
    raw = gamma_raw(n, **changes)
    fetched = timezone.now() - fetched_ago
    market = market_upsert_from_gamma(data=parse_market(raw), by=None, fetched_at=fetched).market
    responses.get(f"{GAMMA}/markets/{raw['id']}", json=raw)
    return market


def hold(market: Market, *, tier_rank: int = 1, size: str = "1000", account=None):
    account = account or make_account(tier_rank=tier_rank, wallets=[f"0x{next(_ids):040x}"])
    return make_exposure(
        account, market.condition_id, outcome="Yes", size=size, value="620", with_portfolio=False
    )


def fetched_ids() -> list[str]:
    return [call.request.url.rsplit("/", 1)[1] for call in responses.calls]


# --- Markets Tier 1 accounts hold -----------------------------------------------------------------


@responses.activate
def test_only_markets_a_tier_one_wallet_holds_are_refetched_once_15_minutes_old_stalest_first():
    old = imported(1, fetched_ago=dt.timedelta(minutes=40))
    older = imported(2, fetched_ago=dt.timedelta(hours=2))
    fresh = imported(3, fetched_ago=dt.timedelta(minutes=5))
    tier_two_only = imported(4, fetched_ago=dt.timedelta(hours=3))
    sold = imported(5, fetched_ago=dt.timedelta(hours=3))
    gone = imported(6, fetched_ago=dt.timedelta(hours=3))
    nobody = imported(7, fetched_ago=dt.timedelta(hours=3))
    for market in (old, older, fresh, gone):
        hold(market)
    hold(tier_two_only, tier_rank=2)
    hold(sold, size="0")
    Market.objects.filter(pk=gone.pk).update(gone_from_gamma_at=timezone.now() - dt.timedelta(hours=1))
    assert nobody.pk  # held by no one: left to the hourly run

    outcome = tier_one_markets_refresh()

    assert outcome == {"refreshed": 2, "new_versions": 0, "failed": 0, "left_for_next_run": 0}
    assert fetched_ids() == [older.gamma_id, old.gamma_id]
    old.refresh_from_db()
    assert timezone.now() - old.last_fetched_at < dt.timedelta(minutes=1)


@responses.activate
def test_a_dispute_on_a_market_tier_one_holds_is_a_signal_within_the_fast_refresh():
    market = imported(1, fetched_ago=dt.timedelta(minutes=20))
    hold(market)
    raw = gamma_raw(1, umaResolutionStatuses='["proposed", "disputed"]')
    responses.replace(responses.GET, f"{GAMMA}/markets/{raw['id']}", json=raw)

    tier_one_markets_refresh()

    assert list(market.signals.order_by("pk").values_list("kind", flat=True)) == [
        MarketSignal.Kind.PROPOSED,
        MarketSignal.Kind.DISPUTED,
    ]


@responses.activate
def test_a_spent_budget_leaves_the_rest_for_the_next_run():
    markets = [imported(n, fetched_ago=dt.timedelta(hours=n)) for n in (1, 2, 3)]
    for market in markets:
        hold(market)
    clock = itertools.count(start=0, step=10)  # every look at the clock is ten seconds later

    with mock.patch("disputes.services.markets.time") as time:
        time.monotonic.side_effect = lambda: next(clock)
        first = tier_one_markets_refresh(time_budget_seconds=25)

    assert first == {"refreshed": 2, "new_versions": 0, "failed": 0, "left_for_next_run": 1}
    assert tier_one_markets_refresh() == {
        "refreshed": 1,
        "new_versions": 0,
        "failed": 0,
        "left_for_next_run": 0,
    }
    assert fetched_ids() == [markets[2].gamma_id, markets[1].gamma_id, markets[0].gamma_id]


def refresh_queries(count: int, *, holders_each: int = 1) -> int:
    """The queries of one Tier 1 refresh that finds `count` markets due, each held `holders_each` times."""
    with responses.RequestsMock() as gamma:
        markets = []
        for _ in range(count):
            raw = gamma_raw(1000 + next(_ids))
            fetched = timezone.now() - dt.timedelta(hours=1)
            markets.append(
                market_upsert_from_gamma(data=parse_market(raw), by=None, fetched_at=fetched).market
            )
            gamma.get(f"{GAMMA}/markets/{raw['id']}", json=raw)
        for market in markets:
            for _ in range(holders_each):
                hold(market)
        with CaptureQueriesContext(connection) as queries:
            outcome = tier_one_markets_refresh()
    assert outcome["refreshed"] == count
    return len(queries)


def test_each_market_costs_its_upsert_and_no_more_however_many_markets_or_holders():
    two, six = refresh_queries(2), refresh_queries(6)
    per_market = (six - two) // 4
    assert six - two == 4 * per_market
    assert two - 2 * per_market <= 1  # one query chooses the markets
    assert per_market <= 6  # lock and read, save, clarifications, current rules, savepoints
    assert refresh_queries(6, holders_each=5) == six  # holders cost nothing


def test_the_task_runs_every_five_minutes_and_stops_within_them(settings):
    schedule = next(s for s in SCHEDULES if s.name == "disputes.tier_one_markets_refresh")
    assert schedule.cron == "*/5 * * * *"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 600}
    with mock.patch("disputes.tasks._tier_one_markets_refresh", return_value={}) as refresh:
        tasks.tier_one_markets_refresh()
    assert refresh.call_args.kwargs["time_budget_seconds"] < 300
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120}
    with mock.patch("disputes.tasks._tier_one_markets_refresh", return_value={}) as refresh:
        tasks.tier_one_markets_refresh()
    assert refresh.call_args.kwargs["time_budget_seconds"] < 120


# --- A market that disappears from Gamma ----------------------------------------------------------


@responses.activate
def test_a_404_marks_the_market_gone_once_and_keeps_it_its_rules_positions_and_cases(specialist):
    market = imported(1, fetched_ago=dt.timedelta(hours=2), umaResolutionStatuses='["proposed"]')
    version = market.current_version
    last_fetched = market.last_fetched_at
    holding = hold(market)
    case = dispute_file(
        by=specialist,
        account=holding.account,
        category="market_resolution",
        market=market,
        claim="Wrong source.",
        amount_at_stake=Decimal("100"),
    )
    responses.replace(responses.GET, f"{GAMMA}/markets/{market.gamma_id}", status=404, json={"error": "gone"})
    now = timezone.now()

    outcome = markets_refresh(now=now)

    assert outcome == {"refreshed": 0, "new_versions": 0, "failed": 0, "gone": 1, "left_for_next_run": 0}
    market.refresh_from_db()
    assert market.gone_from_gamma_at == now
    assert market.last_fetched_at == last_fetched and market.uma_history == ["proposed"]
    assert market.current_version == version and market.rule_versions.count() == 1
    assert Exposure.objects.get() == holding
    case.refresh_from_db()
    assert case.market_id == market.pk
    # Gone is no change the traders care about: no signal, no heads-up.
    assert not MarketSignal.objects.exists() and not HeadsUp.objects.exists()

    # Asked again in the same hour of the next day, still 404: the mark keeps its first time.
    markets_refresh(now=now + dt.timedelta(days=1))
    market.refresh_from_db()
    assert market.gone_from_gamma_at == now


@responses.activate
def test_a_gone_market_is_asked_again_once_a_day_and_the_mark_clears_when_gamma_knows_it_again():
    market = imported(1, fetched_ago=dt.timedelta(hours=2))
    hold(market)
    gone_at = timezone.now().replace(minute=23) - dt.timedelta(days=1)
    Market.objects.filter(pk=market.pk).update(gone_from_gamma_at=gone_at)

    for hours in range(1, 24):  # the other hourly runs, and the Tier 1 refresh, leave it
        assert markets_refresh(now=gone_at + dt.timedelta(days=1, hours=hours))["refreshed"] == 0
    assert tier_one_markets_refresh()["refreshed"] == 0
    assert len(responses.calls) == 0

    outcome = markets_refresh(now=gone_at + dt.timedelta(days=2))  # the day's check: it is back

    assert outcome["refreshed"] == 1 and "gone" not in outcome
    market.refresh_from_db()
    assert market.gone_from_gamma_at is None


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": {}},
        {"status": 429, "json": {}},
        {"body": requests.Timeout()},
        {"status": 200, "json": {"id": "9100001", "outcomes": "nonsense"}},
    ],
    ids=["5xx", "429", "timeout", "nonsense"],
)
@responses.activate
def test_other_failures_are_counted_failed_and_do_not_mark_the_market_gone(answer):
    market = imported(1, fetched_ago=dt.timedelta(hours=2))
    responses.replace(responses.GET, f"{GAMMA}/markets/{market.gamma_id}", **answer)

    assert markets_refresh() == {"refreshed": 0, "new_versions": 0, "failed": 1, "left_for_next_run": 0}
    market.refresh_from_db()
    assert market.gone_from_gamma_at is None


def test_the_market_page_says_when_gamma_stopped_listing_it(client, specialist):
    raw = gamma_raw(1)
    market = market_upsert_from_gamma(data=parse_market(raw), by=None).market
    client.force_login(specialist)
    url = reverse("disputes:market_detail", args=[market.pk])
    assert "no longer lists" not in client.get(url).content.decode()

    Market.objects.filter(pk=market.pk).update(gone_from_gamma_at=dt.datetime(2027, 3, 4, 12, tzinfo=dt.UTC))
    page = client.get(url).content.decode()

    assert "Polymarket's API no longer lists this market since 4 Mar 2027; shown as last fetched" in page


@responses.activate
def test_with_the_demo_fixtures_on_the_demos_synthetic_markets_are_not_asked_of_polymarket(settings):
    demo = imported(20, fetched_ago=dt.timedelta(hours=3), slug="demo-fed-cut-june-2027")
    real = imported(21, fetched_ago=dt.timedelta(hours=3))
    hold(demo)
    hold(real)
    settings.POLYMARKET_DEMO_FIXTURES = True
    assert markets_refresh()["refreshed"] == 1
    assert tier_one_markets_refresh()["refreshed"] == 0  # the real one was just fetched
    assert fetched_ids() == [real.gamma_id]
    demo.refresh_from_db()
    assert demo.gone_from_gamma_at is None

    settings.POLYMARKET_DEMO_FIXTURES = False  # a real deployment has no demo markets to spare
    Market.objects.update(last_fetched_at=timezone.now() - dt.timedelta(hours=1))
    assert tier_one_markets_refresh()["refreshed"] == 2
