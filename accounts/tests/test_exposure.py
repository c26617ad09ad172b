"""The portfolio's exposure (resolution radar, first half): each wallet's positions from the Data
API (recorded payloads, never the network) stored per market and outcome, the sweep's order and
pace, the shared request budget, and what is shown as current or stale."""

import datetime as dt
from decimal import Decimal

import pytest
import responses
from django.utils import timezone

from accounts.models import Exposure, WalletPortfolio
from accounts.selectors import account_holdings, market_holdings
from accounts.services.exposure import (
    TIER_ONE_EVERY,
    exposure_is_current,
    exposure_sweep,
    wallets_due,
)
from accounts.services.wallet_data import wallet_portfolios_refresh
from accounts.tests.factories import DATA_API, OTHER_WALLET, WHALE_WALLET, make_account
from integrations.models import RateBudget
from integrations.polymarket.data_api import DataApiClient

BASE = DATA_API
MARKET = "0x7ad403c3508f8e3912940fd1a913f227591145ca0614074208e0b962d5fcc422"
WHALE = WHALE_WALLET
OTHER = OTHER_WALLET

pytestmark = pytest.mark.django_db


def test_a_refresh_stores_each_outcome_held_and_the_market_lists_the_account(polymarket):
    whale = make_account(display_name="Whale", wallets=[WHALE])
    wallet_portfolios_refresh(account_id=whale.pk)
    rows = {(e.outcome, e.size, e.current_value) for e in Exposure.objects.filter(account=whale)}
    assert rows == {
        ("No", Decimal("400000"), Decimal("301800")),
        ("Yes", Decimal("400000"), Decimal("98200")),
    }
    held = market_holdings(MARKET.upper().replace("0X", "0x"))
    assert [(h.account, h.outcome, h.value, h.current) for h in held] == [
        (whale, "No", Decimal("301800"), True),
        (whale, "Yes", Decimal("98200"), True),
    ]
    assert [h.condition_id for h in account_holdings(whale)] == [MARKET, MARKET]


def test_two_wallets_of_one_account_add_up_and_a_sold_position_leaves(polymarket):
    whale = make_account(wallets=[WHALE, OTHER])
    wallet_portfolios_refresh(account_id=whale.pk)
    no, yes = market_holdings(MARKET)
    assert no.size == Decimal("800000") and no.value == Decimal("603600")
    assert yes.size == Decimal("800000") and yes.value == Decimal("196400")
    # The account sold everything: the next refresh finds no position, and no holder is left.
    polymarket.replace(responses.GET, f"{BASE}/v2/positions", body='{"data": [], "pagination": {}}')
    wallet_portfolios_refresh(account_id=whale.pk)
    assert market_holdings(MARKET) == [] and not Exposure.objects.exists()


def test_a_failed_refresh_keeps_the_positions_but_never_as_current(polymarket):
    whale = make_account(wallets=[WHALE])
    wallet_portfolios_refresh(account_id=whale.pk)
    polymarket.replace(responses.GET, f"{BASE}/v2/positions", status=429, body="slow down")
    wallet_portfolios_refresh(account_id=whale.pk)
    held = market_holdings(MARKET)
    assert len(held) == 2 and not any(h.current for h in held)
    assert "rate-limiting" in WalletPortfolio.objects.get().last_error


def test_positions_older_than_twice_the_tiers_interval_are_stale():
    now = timezone.now()
    fresh = now - TIER_ONE_EVERY
    assert exposure_is_current(fetched_at=fresh, attempted_at=fresh, last_error="", tier_rank=1, now=now)
    old = now - 2 * TIER_ONE_EVERY - dt.timedelta(seconds=1)
    assert not exposure_is_current(fetched_at=old, attempted_at=old, last_error="", tier_rank=1, now=now)
    assert exposure_is_current(fetched_at=old, attempted_at=old, last_error="", tier_rank=2, now=now)
    assert not exposure_is_current(fetched_at=None, attempted_at=None, last_error="", tier_rank=2, now=now)


def test_the_sweep_takes_tier_one_first_and_each_wallet_when_its_interval_has_passed(polymarket):
    tier_two = make_account(tier_rank=2, wallets=[OTHER])
    tier_one = make_account(tier_rank=1, wallets=[WHALE])
    now = timezone.now()
    assert [w.account for w in wallets_due(now=now, limit=10)] == [tier_one, tier_two]
    assert exposure_sweep(budget_seconds=30)["refreshed"] == 2
    assert wallets_due(now=timezone.now(), limit=10) == []
    WalletPortfolio.objects.update(attempted_at=now - TIER_ONE_EVERY - dt.timedelta(minutes=1))
    assert [w.account for w in wallets_due(now=timezone.now(), limit=10)] == [tier_one]  # hourly for Tier 2
    assert Exposure.objects.filter(account=tier_one).count() == 2


def test_every_data_api_call_takes_from_the_budget_all_workers_share(polymarket, settings):
    settings.POLYMARKET_DATA_RATE_LIMIT = 100
    make_account(wallets=[WHALE])
    with DataApiClient(shared_budget=True) as client:
        exposure_sweep(client=client)
    row = RateBudget.objects.get(name="polymarket-data")
    assert row.remaining == int(100 * 0.97) - 1  # one /v2/positions call, headroom kept
