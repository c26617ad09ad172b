"""The Data API client against Polymarket's real v2 payloads (served by `responses`, never the network)."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers

from integrations.polymarket import data_api
from integrations.polymarket.data_api import (
    DataApiClient,
    PolymarketBadResponse,
    PolymarketUnavailable,
    Position,
)
from integrations.polymarket.demo import PAGE_SIZE, SYNTHETIC_MARKER, demo_positions

FIXTURES = Path(__file__).parent / "fixtures" / "polymarket"
BASE = "https://data-api.polymarket.test"
WHALE = "0x7c3db723f1d4d8cb9c550095203b686cb11e5c6b"
NO_TOKEN = "94476829201604408463453426454480212459887267917122244941405244686637914508323"
# A wallet the demo data gives several positions (some wallets get none, on purpose).
DEMO_WALLET = "0x2005d16a84ceefa912d4e380cd32e7ff827875ea"
YES_TOKEN = "16040015440196279900485035793550429453516625694844857319147506590755961451627"


def payload(name: str) -> str:
    return (FIXTURES / name).read_text()


def envelope(data: str, next_cursor: str | None = None) -> str:
    """The v2 wrapping around a recorded payload, whose text is kept as recorded."""
    cursor = "null" if next_cursor is None else f'"{next_cursor}"'
    return f'{{"data": {data}, "pagination": {{"next_cursor": {cursor}}}}}'


@pytest.fixture
def api(settings):
    settings.POLYMARKET_DATA_URL = BASE
    settings.POLYMARKET_DEMO_FIXTURES = False
    settings.POLYMARKET_TIMEOUT_SECONDS = 4
    with responses.RequestsMock() as mock:
        yield mock


def positions_query(**extra):
    return matchers.query_param_matcher({"user": WHALE, "status": "OPEN", **extra})


def test_positions_parse_the_real_v2_rows(api):
    api.get(
        f"{BASE}/v2/positions",
        body=envelope(payload("data_api_v2_positions.json")),
        match=[positions_query()],
    )
    with DataApiClient() as client:
        no, yes = client.positions(WHALE)

    assert (no.token_id, yes.token_id) == (NO_TOKEN, YES_TOKEN)
    assert isinstance(no.token_id, str)
    assert no.condition_id == "0x7ad403c3508f8e3912940fd1a913f227591145ca0614074208e0b962d5fcc422"
    assert no.title == "Will JD Vance win the 2028 US Presidential Election?"
    assert (no.outcome, yes.outcome) == ("No", "Yes")
    assert no.size == Decimal("400000.0")
    assert no.avg_price == Decimal("0.5")
    assert no.current_price == Decimal("0.7545")  # exact: parsed from the text, not via float
    assert no.current_value == Decimal("301800.0")
    assert (no.total_pnl, yes.total_pnl) == (Decimal("101800.0"), Decimal("-101800.0"))
    assert no.percent_pnl == Decimal("50.9")
    assert no.negative_risk is True and no.redeemable is False
    assert no.end_date == dt.date(2028, 11, 7)
    assert no.event_slug == "presidential-election-winner-2028"


def test_requests_carry_a_user_agent_and_the_configured_timeouts(api):
    api.get(f"{BASE}/v2/value", body=envelope(payload("data_api_v2_value.json")))
    with DataApiClient() as client:
        client.value(WHALE)

    request = api.calls[0].request
    assert request.headers["User-Agent"].startswith("advanced-support-portal/")
    assert request.req_kwargs["timeout"] == (4, 4)


def test_positions_follow_the_cursor_until_it_is_null(api):
    first, second = (json.dumps([row]) for row in json.loads(payload("data_api_v2_positions.json")))
    api.get(f"{BASE}/v2/positions", body=envelope(first, "page-2"), match=[positions_query()])
    api.get(f"{BASE}/v2/positions", body=envelope(second), match=[positions_query(cursor="page-2")])

    with DataApiClient() as client:
        positions = client.positions(WHALE)

    assert [p.token_id for p in positions] == [NO_TOKEN, YES_TOKEN]
    assert len(api.calls) == 2


def test_positions_stop_at_the_page_cap(api, monkeypatch):
    monkeypatch.setattr(data_api, "MAX_PAGES", 3)
    api.get(f"{BASE}/v2/positions", body=envelope("[]", "same-cursor-forever"))

    with DataApiClient() as client:
        assert client.positions(WHALE) == []
    assert len(api.calls) == 3


def test_bare_payloads_are_accepted_as_well_as_wrapped_ones(api):
    api.get(f"{BASE}/v2/positions", body=payload("data_api_v2_positions.json"))
    api.get(f"{BASE}/v2/value", body=payload("data_api_v2_value.json"))

    with DataApiClient() as client:
        assert [p.token_id for p in client.positions(WHALE)] == [NO_TOKEN, YES_TOKEN]
        assert client.value(WHALE) == Decimal("684953.8942")


def test_wrapped_value_is_exact(api):
    api.get(f"{BASE}/v2/value", body=envelope(payload("data_api_v2_value.json")))
    with DataApiClient() as client:
        assert client.value(WHALE) == Decimal("684953.8942")


@pytest.mark.parametrize("data", ["null", "[]"])
def test_no_record_means_nothing_not_an_error(api, data):
    api.get(f"{BASE}/v2/positions", body=envelope(data))
    api.get(f"{BASE}/v2/value", body=envelope(data))
    with DataApiClient() as client:
        assert client.positions(WHALE) == []
        assert client.value(WHALE) is None


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_unavailable(api, status):
    api.get(f"{BASE}/v2/value", status=status, body="upstream trouble")
    with DataApiClient() as client, pytest.raises(PolymarketUnavailable, match=f"HTTP {status}"):
        client.value(WHALE)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (requests.exceptions.ReadTimeout(), "did not answer within 4 seconds"),
        (requests.exceptions.ConnectTimeout(), "did not answer within 4 seconds"),
        (requests.exceptions.ConnectionError(), "could not be reached"),
    ],
)
def test_network_failures_are_unavailable(api, failure, message):
    api.get(f"{BASE}/v2/positions", body=failure)
    with DataApiClient() as client, pytest.raises(PolymarketUnavailable, match=message) as raised:
        client.positions(WHALE)
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, '{"error": "not found"}', "HTTP 404"),
        (400, '{"error": "invalid user"}', "HTTP 400"),
        (200, "<html>maintenance</html>", "not JSON"),
        (200, '{"data": {"unexpected": true}}', "unexpected shape"),
        (200, '[{"token_id": "1"}]', "without a token id or size"),
    ],
)
def test_refusals_and_garbage_are_bad_responses(api, status, body, message):
    api.get(f"{BASE}/v2/positions", status=status, body=body)
    with DataApiClient() as client, pytest.raises(PolymarketBadResponse, match=message):
        client.positions(WHALE)


def test_a_v1_camel_case_row_is_refused_rather_than_misread(api):
    api.get(f"{BASE}/v2/positions", body=envelope(f"[{payload('data_api_v1_position_row.json')}]"))
    with DataApiClient() as client, pytest.raises(PolymarketBadResponse):
        client.positions(WHALE)


def test_a_value_that_is_not_a_number_is_a_bad_response(api):
    api.get(f"{BASE}/v2/value", body=envelope('{"proxy_wallet": "0x", "value": "lots"}'))
    with DataApiClient() as client, pytest.raises(PolymarketBadResponse, match="where a number belongs"):
        client.value(WHALE)


def test_stored_positions_round_trip_without_losing_precision(api):
    api.get(f"{BASE}/v2/positions", body=payload("data_api_v2_positions.json"))
    with DataApiClient() as client:
        position = client.positions(WHALE)[0]

    stored = position.as_json()
    assert stored["token_id"] == NO_TOKEN
    assert stored["current_price"] == "0.7545"
    assert stored["end_date"] == "2028-11-07"
    assert Position.from_json(stored) == position


class TestDemoMode:
    @pytest.fixture
    def demo(self, settings):
        settings.POLYMARKET_DATA_URL = BASE
        settings.POLYMARKET_DEMO_FIXTURES = True
        # Nothing registered: any request that reached the network layer would fail the test.
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield mock

    def fetch(self, address: str) -> tuple[list[Position], Decimal | None]:
        with DataApiClient() as client:
            return client.positions(address), client.value(address)

    def test_answers_offline_from_the_synthetic_fixtures(self, demo):
        positions, value = self.fetch(DEMO_WALLET)

        assert len(demo.calls) == 0
        assert positions, "the demo wallet should hold positions"
        assert all(p.token_id.isdigit() and len(p.token_id) > 70 for p in positions)
        assert value == sum(p.current_value for p in positions)

    def test_the_same_wallet_always_gets_the_same_answer(self, demo):
        assert self.fetch(DEMO_WALLET) == self.fetch(DEMO_WALLET.upper().replace("0X", "0x"))

    def test_different_wallets_get_different_portfolios(self, demo):
        addresses = [f"0x{n:040x}" for n in range(1, 9)]
        portfolios = {tuple(row["token_id"] for row in demo_positions(a)) for a in addresses}
        values = {self.fetch(a)[1] for a in addresses}
        assert len(portfolios) > 3 and len(values) > 3

    def test_large_demo_wallets_are_paged_through_the_cursor(self, demo):
        address = next(f"0x{n:040x}" for n in range(1, 100) if len(demo_positions(f"0x{n:040x}")) > PAGE_SIZE)
        positions, _ = self.fetch(address)
        assert len(positions) == len(demo_positions(address)) > PAGE_SIZE

    def test_the_fixture_file_is_marked_synthetic(self):
        document = (Path(data_api.__file__).parent / "demo_fixtures" / "positions.json").read_text()
        assert f'"_synthetic": "{SYNTHETIC_MARKER}"' in document
