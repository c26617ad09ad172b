"""One market's exposure refreshed: the wallets that held it fetched again (only the stale ones
before a heads-up, so an account that sold since is not told), the Data API down (three failures
in a row and the rest are left as they were, marked stale), and *Refresh holders* on the
market's page. The Data API answers with the recorded whale payload, which holds none of the
markets below: a wallet fetched again has sold them."""

import datetime as dt
import re

import pytest
import responses
from django.utils import timezone

from accounts.models import Exposure, WalletPortfolio
from accounts.services.exposure import market_exposure_refresh
from accounts.tests.factories import DATA_API, make_account, make_exposure, specialist_user
from disputes.models import HeadsUp, Market, MarketSignal
from disputes.radar.fanout import radar_fan_out

pytestmark = pytest.mark.django_db
HELD = "0x" + "ab" * 32


def holding(*, tier_rank: int, fetched_ago: dt.timedelta, value: str = "500", owner=None):
    account = make_account(
        owner=owner, tier_rank=tier_rank, wallets=[f"0x{Exposure.objects.count() + 1:040x}"]
    )
    make_exposure(account, HELD, value=value, fetched_at=timezone.now() - fetched_ago)
    return account


def calls(mock) -> list[str]:
    return [c.request.params["user"] for c in mock.calls if "/v2/positions" in c.request.url]


def test_only_stale_wallets_are_fetched_again_and_a_seller_is_not_told(polymarket):
    current = holding(
        tier_rank=1, fetched_ago=dt.timedelta(minutes=5), owner=specialist_user(email="a@x.test")
    )
    stale = holding(tier_rank=2, fetched_ago=dt.timedelta(hours=3), owner=specialist_user(email="b@x.test"))
    market = Market.objects.create(question="Held?", gamma_id="1", condition_id=HELD)
    signal = MarketSignal.objects.create(
        market=market, kind="disputed", key="uma:1", summary="disputed", detected_at=timezone.now()
    )

    outcome = radar_fan_out(signal.pk)

    assert calls(polymarket) == [stale.wallets.get().address]  # the current one is not asked
    assert outcome == {"heads_ups": 1, "mailed": 1, "wallets_refreshed": 1}
    assert list(HeadsUp.objects.values_list("owner", flat=True)) == [current.owner_id]
    assert not Exposure.objects.filter(account=stale, condition_id=HELD).exists()  # sold since


def test_all_holders_largest_first_and_not_twice_within_a_minute(polymarket):
    small = holding(tier_rank=1, fetched_ago=dt.timedelta(minutes=5), value="10")
    large = holding(tier_rank=1, fetched_ago=dt.timedelta(minutes=5), value="9000")
    assert market_exposure_refresh(HELD) == {"wallets": 2, "refreshed": 2, "failed": 0, "left": 0}
    assert calls(polymarket) == [large.wallets.get().address, small.wallets.get().address]
    assert market_exposure_refresh(HELD)["wallets"] == 0  # sold: nothing holds it now


def test_the_data_api_down_leaves_the_rest_after_three_failures_marked_stale(polymarket):
    for n in range(5):
        holding(tier_rank=2, fetched_ago=dt.timedelta(hours=3), value=str(100 + n))
    polymarket.replace(responses.GET, f"{DATA_API}/v2/positions", status=503)

    assert market_exposure_refresh(HELD) == {"wallets": 5, "refreshed": 0, "failed": 3, "left": 2}
    assert Exposure.objects.filter(condition_id=HELD).count() == 5  # kept as they were
    assert WalletPortfolio.objects.exclude(last_error="").count() == 3


def test_refresh_holders_from_the_market_page(
    polymarket, client, specialist, leader, django_capture_on_commit_callbacks, monkeypatch
):
    holding(tier_rank=2, fetched_ago=dt.timedelta(hours=3))
    market = Market.objects.create(question="Held?", gamma_id="1", condition_id=HELD)
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda name, *args: queued.append((name, args)))
    client.force_login(specialist)
    page = client.get(f"/disputes/markets/{market.pk}/").content.decode()
    action = re.search(r'<form method="post" action="([^"]+/holders/refresh/)"', page)
    assert action, "the market page offers no Refresh holders"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(action[1], follow=True)
    assert "Fetching the positions of the 1 account holding it again" in response.content.decode()
    assert queued == [("accounts.tasks.market_exposure_refresh", (HELD,))]

    client.force_login(leader)  # reads the holders, refreshes nothing
    assert "/holders/refresh/" not in client.get(f"/disputes/markets/{market.pk}/").content.decode()
    assert client.post(action[1]).status_code == 403
