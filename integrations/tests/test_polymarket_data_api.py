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
from integrations.polymarket.demo import PAGE_SIZE, SYNTHETIC_MARKER, demo_activity_page, demo_positions

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


def test_positions_stop_at_the_page_cap_and_fail_rather_than_return_a_part(api, monkeypatch):
    monkeypatch.setattr(data_api, "MAX_PAGES", 3)
    api.get(f"{BASE}/v2/positions", body=envelope("[]", "same-cursor-forever"))

    with DataApiClient() as client, pytest.raises(data_api.PolymarketBadResponse, match="more than 3 pages"):
        client.positions(WHALE)
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


# --- Wallet activity (v1 `/activity`) -------------------------------------------------------------
# `data_api_v1_activity.json` is converted from the py-sdk v2 activity fixture (real rows, keys
# renamed to camelCase) plus synthetic DEPOSIT/WITHDRAWAL/TRADE rows on both sides of the
# 2026-04-28 cutover; fixtures/polymarket/README.md says which row is which.

UTC = dt.UTC
WINDOW_START = dt.datetime(2026, 4, 1, tzinfo=UTC)
WINDOW_END = dt.datetime(2026, 10, 1, tzinfo=UTC)
LAPTOP = "0x0a91645ed98ad09817e051a17466cff087b920393aefba0fe74e8735fc192f15"
ARKANSAS = "0x706beb0ebd2edd12bbe8ec141a94181a8b67fb2b630c66304db8e70828a2cd7f"


def activity_rows() -> list[dict]:
    return json.loads(payload("data_api_v1_activity.json"))


def activity_query(offset: int = 0, **changes):
    params = {
        "user": WHALE,
        "start": str(int(WINDOW_START.timestamp())),
        "end": str(int(WINDOW_END.timestamp())),
        "excludeDepositsWithdrawals": "false",
        "sortBy": "TIMESTAMP",
        "sortDirection": "ASC",
        "limit": "500",
        "offset": str(offset),
        **changes,
    }
    return matchers.query_param_matcher(params)


def fetch_activity(**kwargs):
    with DataApiClient() as client:
        return client.activity(WHALE, start=WINDOW_START, end=WINDOW_END, **kwargs)


def test_activity_asks_v1_for_deposits_and_withdrawals_in_the_window(api):
    api.get(f"{BASE}/activity", body=payload("data_api_v1_activity.json"), match=[activity_query()])

    rows, truncated = fetch_activity()

    assert truncated is False
    assert [row.kind for row in rows] == ["DEPOSIT", "TRADE", "TRADE", "TRADE", "TRADE", "WITHDRAWAL"]
    assert int(WINDOW_START.timestamp()) == 1775001600  # start/end go out as epoch seconds


def test_activity_rows_parse_the_converted_v1_page(api):
    api.get(f"{BASE}/activity", body=payload("data_api_v1_activity.json"))

    deposit, before, at_cutover, arkansas, laptop, withdrawal = fetch_activity()[0]

    assert deposit.at == dt.datetime(2026, 4, 20, 9, 30, tzinfo=UTC)
    assert (deposit.condition_id, deposit.side, deposit.title) == ("", "", "")
    assert deposit.usdc_size == Decimal("1500")
    assert before.at == dt.datetime(2026, 4, 27, 23, 59, 59, tzinfo=UTC)
    assert before.transaction_hash == "0x97a05cf47e41b07b42976f73b2707ccc040fa1aac721801d4373b5388e5cdf4e"
    assert at_cutover.at == dt.datetime(2026, 4, 28, tzinfo=UTC)
    assert (at_cutover.side, at_cutover.condition_id) == ("SELL", ARKANSAS)
    assert laptop.at == dt.datetime.fromtimestamp(1788886609, UTC)
    assert laptop.condition_id == LAPTOP
    assert laptop.title == "LAPTOP FDV above $25M one day after launch?"
    assert (laptop.outcome, laptop.side) == ("Yes", "BUY")
    assert laptop.size == Decimal("14.285715")
    assert laptop.usdc_size == Decimal("13.285715")
    assert laptop.price == Decimal("0.9300000035")  # exact: from the text, not via float
    assert laptop.transaction_hash == "0xa661459fc2483ddb4e5c7d13c76347fa2b1fb2faae10eed484c810ae46c471dd"
    assert arkansas.price == Decimal("0.0864503644")
    assert withdrawal.kind == "WITHDRAWAL" and withdrawal.condition_id == ""  # no conditionId key at all
    assert withdrawal.usdc_size == Decimal("250")
    assert all(row.at.tzinfo is UTC for row in (deposit, laptop, withdrawal))


def test_activity_pages_with_offset_until_a_short_page(api, monkeypatch):
    monkeypatch.setattr(data_api, "ACTIVITY_PAGE_SIZE", 4)
    rows = activity_rows()
    api.get(f"{BASE}/activity", json=rows[:4], match=[activity_query(0, limit="4")])
    api.get(f"{BASE}/activity", json=rows[4:], match=[activity_query(4, limit="4")])

    found, truncated = fetch_activity()

    assert len(found) == 6 and truncated is False
    assert len(api.calls) == 2


def test_activity_stops_on_an_empty_page_after_full_ones(api, monkeypatch):
    monkeypatch.setattr(data_api, "ACTIVITY_PAGE_SIZE", 3)
    rows = activity_rows()
    api.get(f"{BASE}/activity", json=rows[:3], match=[activity_query(0, limit="3")])
    api.get(f"{BASE}/activity", json=rows[3:], match=[activity_query(3, limit="3")])
    api.get(f"{BASE}/activity", json=[], match=[activity_query(6, limit="3")])

    found, truncated = fetch_activity()

    assert len(found) == 6 and truncated is False
    assert len(api.calls) == 3


def test_activity_stops_at_the_v1_offset_limit_and_says_truncated(api):
    """Real page size and cap: 20 full pages of 500 reach offset 10,000, which v1 will not page past."""
    template = activity_rows()[4]
    offsets = []

    def full_page(request):
        offset = int(request.params["offset"])
        offsets.append(offset)
        page = [{**template, "timestamp": 1788886609 + offset + i} for i in range(500)]
        return 200, {}, json.dumps(page)

    api.add_callback(responses.GET, f"{BASE}/activity", callback=full_page)

    rows, truncated = fetch_activity()

    assert truncated is True
    assert len(rows) == 10_000
    assert offsets == list(range(0, 10_000, 500))  # never asks for offset 10,000 or beyond


def test_activity_stops_at_the_row_cap(api):
    api.get(f"{BASE}/activity", body=payload("data_api_v1_activity.json"))

    rows, truncated = fetch_activity(max_rows=4)
    assert len(rows) == 4 and truncated is True

    rows, truncated = fetch_activity(max_rows=6)  # exactly all of them: nothing left out
    assert len(rows) == 6 and truncated is False


def test_activity_market_filter_keeps_deposits_and_withdrawals(api):
    # No `market=` goes to the API (it would drop the deposits); the exact params are matched.
    api.get(f"{BASE}/activity", body=payload("data_api_v1_activity.json"), match=[activity_query()])

    rows, _ = fetch_activity(market=LAPTOP.upper().replace("0X", "0x"))

    assert [(row.kind, row.condition_id) for row in rows] == [
        ("DEPOSIT", ""),
        ("TRADE", LAPTOP),
        ("TRADE", LAPTOP),
        ("WITHDRAWAL", ""),
    ]


def test_activity_rows_outside_the_window_are_dropped(api):
    api.get(f"{BASE}/activity", body=payload("data_api_v1_activity.json"))
    with DataApiClient() as client:
        rows, _ = client.activity(
            WHALE, start=dt.datetime(2026, 4, 28, tzinfo=UTC), end=dt.datetime(2026, 9, 9, tzinfo=UTC)
        )
    assert [row.at.isoformat() for row in rows] == [
        "2026-04-28T00:00:00+00:00",
        "2026-09-08T16:47:06+00:00",
        "2026-09-08T16:56:49+00:00",
    ]


def test_activity_needs_aware_datetimes(api):
    with DataApiClient() as client, pytest.raises(ValueError, match="timezone-aware"):
        client.activity(WHALE, start=dt.datetime(2026, 4, 1), end=WINDOW_END)
    assert len(api.calls) == 0


def test_v2_shaped_activity_rows_parse_too(api):
    rows = [data_api.parse_activity(row) for row in json.loads(payload("data_api_v2_activity.json"))]

    laptop, arkansas = rows
    assert laptop.at == dt.datetime(2026, 9, 8, 16, 56, 49, tzinfo=UTC)
    assert (laptop.kind, laptop.condition_id, laptop.side, laptop.outcome) == ("TRADE", LAPTOP, "BUY", "Yes")
    assert laptop.usdc_size == Decimal("13.285715")
    assert laptop.transaction_hash == "0xa661459fc2483ddb4e5c7d13c76347fa2b1fb2faae10eed484c810ae46c471dd"
    assert arkansas.condition_id == ARKANSAS

    # …and a v2 envelope around them is accepted by the client as well.
    api.get(f"{BASE}/activity", body=envelope(payload("data_api_v2_activity.json")))
    fetched, truncated = fetch_activity()
    assert set(fetched) == set(rows) and truncated is False


def test_the_converted_v1_rows_match_the_real_v2_rows():
    v1 = {row.transaction_hash: row for row in map(data_api.parse_activity, activity_rows())}
    for v2 in map(data_api.parse_activity, json.loads(payload("data_api_v2_activity.json"))):
        assert v1[v2.transaction_hash] == v2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": None}, "without a type"),
        ({"type": ""}, "without a type"),
        ({"timestamp": None}, "without a timestamp"),
        ({"timestamp": "yesterday"}, "where an activity timestamp belongs"),
        ({"timestamp": True}, "without a timestamp"),
        ({"timestamp": 10**20}, "where an activity timestamp belongs"),
        ({"usdcSize": "lots"}, "where a number belongs"),
        ({"price": "NaN"}, "where a number belongs"),
        ({"transactionHash": "0x1234"}, "where a transaction hash belongs"),
        ({"transactionHash": "0x" + "g" * 64}, "where a transaction hash belongs"),
        ({"title": 5}, "not text"),
    ],
)
def test_bad_activity_rows_are_bad_responses(api, change, message):
    row = {**activity_rows()[4], **change}
    api.get(f"{BASE}/activity", json=[row])
    with pytest.raises(PolymarketBadResponse, match=message):
        fetch_activity()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"unexpected": true}', "unexpected shape"),
        ('["not a row"]', "unexpected shape"),
        ("<html>maintenance</html>", "not JSON"),
    ],
)
def test_bad_activity_pages_are_bad_responses(api, body, message):
    api.get(f"{BASE}/activity", body=body)
    with pytest.raises(PolymarketBadResponse, match=message):
        fetch_activity()


def test_a_missing_transaction_hash_is_empty_not_an_error():
    row = {key: value for key, value in activity_rows()[0].items() if key != "transactionHash"}
    assert data_api.parse_activity(row).transaction_hash == ""


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (500, PolymarketUnavailable, "HTTP 500"),
        (503, PolymarketUnavailable, "HTTP 503"),
        (429, PolymarketUnavailable, "HTTP 429"),
        (400, PolymarketBadResponse, "HTTP 400"),
        (404, PolymarketBadResponse, "HTTP 404"),
    ],
)
def test_activity_http_errors_map_like_the_other_routes(api, status, error, message):
    api.get(f"{BASE}/activity", status=status, body="trouble")
    with pytest.raises(error, match=message):
        fetch_activity()


def test_activity_timeouts_are_unavailable(api):
    api.get(f"{BASE}/activity", body=requests.exceptions.ReadTimeout())
    with pytest.raises(PolymarketUnavailable, match="did not answer within 4 seconds"):
        fetch_activity()


class TestDemoActivity:
    @pytest.fixture
    def demo(self, settings):
        settings.POLYMARKET_DATA_URL = BASE
        settings.POLYMARKET_DEMO_FIXTURES = True
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield mock

    def fetch(self, address=DEMO_WALLET, **kwargs):
        with DataApiClient() as client:
            return client.activity(
                address,
                start=dt.datetime(2026, 1, 1, tzinfo=UTC),
                end=dt.datetime(2026, 9, 1, tzinfo=UTC),
                **kwargs,
            )

    def test_answers_offline_with_trades_deposits_and_withdrawals(self, demo):
        rows, truncated = self.fetch()

        assert len(demo.calls) == 0 and truncated is False
        kinds = {row.kind for row in rows}
        assert {"TRADE", "DEPOSIT"} <= kinds
        assert rows == sorted(rows, key=lambda row: row.at)
        assert rows[0].at < dt.datetime(2026, 4, 28, tzinfo=UTC) < rows[-1].at  # both collaterals
        held = {p.condition_id for p in map(data_api.parse_position, demo_positions(DEMO_WALLET))}
        assert {row.condition_id for row in rows if row.kind == "TRADE"} <= held

    def test_the_same_wallet_always_gets_the_same_history(self, demo):
        assert self.fetch() == self.fetch(DEMO_WALLET.upper().replace("0X", "0x"))

    def test_the_market_filter_keeps_money_movements(self, demo):
        rows, _ = self.fetch()
        market = next(row.condition_id for row in rows if row.kind == "TRADE")
        filtered, _ = self.fetch(market=market)
        assert {row.condition_id for row in filtered} == {market, ""}
        assert [row for row in rows if row.condition_id in (market, "")] == filtered

    def test_deposits_are_hidden_unless_asked_for_as_the_real_service_does(self):
        query = {"user": [DEMO_WALLET], "start": ["0"], "end": ["1790000000"], "limit": ["500"]}
        hidden = demo_activity_page(query)
        shown = demo_activity_page({**query, "excludeDepositsWithdrawals": ["false"]})
        assert not {row["type"] for row in hidden} & {"DEPOSIT", "WITHDRAWAL"}
        assert {"DEPOSIT"} <= {row["type"] for row in shown}
        assert all(row["_synthetic"] == SYNTHETIC_MARKER for row in shown)
