"""The hourly market refresh: stalest first, and a run that stops inside its time budget leaves
the rest to the next run instead of being killed half-way by the worker's timeout."""

import datetime as dt
import itertools
from unittest import mock

import pytest
import responses
from django.utils import timezone

from disputes import tasks
from disputes.models import Market
from disputes.services import markets_refresh
from disputes.services.markets import market_upsert_from_gamma
from disputes.tests.factories import gamma_payload
from integrations.polymarket.gamma import parse_market

pytestmark = pytest.mark.django_db
GAMMA = "https://gamma-api.polymarket.com"


def three_markets():
    payload = gamma_payload("market_open.json")
    markets = []
    for offset, gamma_id in enumerate(["9001", "9002", "9003"]):
        raw = {
            **payload,
            "id": gamma_id,
            "slug": f"{payload['slug']}-{gamma_id}",
            "conditionId": f"0x{gamma_id:0>64}",
        }
        fetched = timezone.now() - dt.timedelta(hours=3 - offset)
        markets.append(market_upsert_from_gamma(data=parse_market(raw), by=None, fetched_at=fetched).market)
        responses.get(f"{GAMMA}/markets/{gamma_id}", json=raw)
    return markets


@responses.activate
def test_the_stalest_markets_are_fetched_first_and_a_spent_budget_leaves_the_rest_for_the_next_run():
    oldest, middle, newest = three_markets()
    clock = itertools.count(start=0, step=10)  # every look at the clock is ten seconds later

    with mock.patch("disputes.services.markets.time") as time:
        time.monotonic.side_effect = lambda: next(clock)
        first = markets_refresh(time_budget_seconds=25)

    assert first == {"refreshed": 2, "new_versions": 0, "failed": 0, "left_for_next_run": 1}
    refreshed = set(Market.objects.filter(last_fetched_at__gte=timezone.now() - dt.timedelta(minutes=1)))
    assert refreshed == {oldest, middle}

    second = markets_refresh(time_budget_seconds=25)
    assert second["left_for_next_run"] == 0
    assert [call.request.url.rsplit("/", 1)[1] for call in responses.calls][2] == newest.gamma_id


@responses.activate
def test_the_scheduled_task_runs_with_a_budget_inside_the_worker_timeout(settings):
    three_markets()
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120}
    with mock.patch("disputes.tasks._markets_refresh", wraps=markets_refresh) as refresh:
        outcome = tasks.markets_refresh()
    assert refresh.call_args.kwargs["time_budget_seconds"] < 120
    assert outcome["refreshed"] == 3
