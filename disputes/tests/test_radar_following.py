"""Markets the book holds that the portal did not follow are imported from Gamma (the recorded
`market_open.json`, its ids changed), Tier 1 holdings first and a bounded number a run, with no
signal on that first import; Gamma not knowing one, or failing, is counted and handled."""

import datetime as dt

import pytest
import responses
from django.core.cache import cache

from accounts.tests.factories import make_account, make_exposure
from disputes.models import Market, MarketSignal
from disputes.radar.following import held_markets_follow
from disputes.tests.test_radar_refresh import GAMMA, gamma_raw, imported

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_remembered_misses():
    cache.clear()
    yield
    cache.clear()


def held(n: int, *, tier_rank: int = 2, value: str = "100", size: str = "10") -> str:
    condition_id = f"0x{n:064x}"
    account = make_account(tier_rank=tier_rank, wallets=[f"0x{n + 5000:040x}"])
    make_exposure(account, condition_id, outcome="Yes", size=size, value=value, with_portfolio=False)
    return condition_id


def gamma_knows(n: int, **changes) -> None:
    raw = gamma_raw(n, **changes)
    responses.get(f"{GAMMA}/markets", json=[raw], match=[_condition(raw["conditionId"], "true")])


def _condition(condition_id: str, closed: str):
    return responses.matchers.query_param_matcher({"condition_ids": condition_id, "closed": closed})


def asked() -> list[str]:
    return [
        c.request.params["condition_ids"] for c in responses.calls if c.request.params.get("closed") == "true"
    ]


@responses.activate
def test_held_markets_are_followed_tier_one_first_then_by_value_with_no_signal():
    small, large, tier_one = held(1, value="10"), held(2, value="9000"), held(3, tier_rank=1, value="1")
    held(4, size="0")  # sold: not followed
    followed_already = imported(5, fetched_ago=dt.timedelta(minutes=1))
    held(5)
    for n in (1, 2, 3):
        gamma_knows(n, umaResolutionStatuses='["proposed"]')

    assert held_markets_follow(limit=2) == {
        "followed": 2,
        "not_on_gamma": 0,
        "failed": 0,
        "left_for_next_run": 0,
    }
    assert asked() == [tier_one, large]
    assert held_markets_follow(limit=2)["followed"] == 1
    assert asked()[-1] == small
    assert set(Market.objects.values_list("condition_id", flat=True)) == {
        small,
        large,
        tier_one,
        followed_already.condition_id,
    }
    assert not MarketSignal.objects.exists()  # a first import is where the radar starts looking
    assert held_markets_follow()["followed"] == 0  # nothing left to follow


@responses.activate
def test_a_market_gamma_does_not_know_is_not_asked_again_and_a_failure_is_asked_next_run():
    unknown, failing = held(6, value="900"), held(7, value="10")
    for closed in ("true", "false"):
        responses.get(f"{GAMMA}/markets", json=[], match=[_condition(unknown, closed)])
    responses.get(f"{GAMMA}/markets", status=503, match=[_condition(failing, "true")])

    assert held_markets_follow() == {"followed": 0, "not_on_gamma": 1, "failed": 1, "left_for_next_run": 0}
    assert held_markets_follow() == {"followed": 0, "not_on_gamma": 0, "failed": 1, "left_for_next_run": 0}
    assert asked().count(unknown) == 1 and not Market.objects.exists()


def test_with_the_demo_fixtures_on_nothing_is_asked(settings):
    held(8)
    settings.POLYMARKET_DEMO_FIXTURES = True
    with responses.RequestsMock() as mock:  # any call would fail the test
        assert held_markets_follow()["followed"] == 0
        assert not mock.calls
