"""The Gamma client and parser against a real market payload and labelled synthetic ones (served by
`responses`, never the network)."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers

from integrations.polymarket.data_api import PolymarketBadResponse, PolymarketUnavailable
from integrations.polymarket.demo import SYNTHETIC_MARKER
from integrations.polymarket.gamma import (
    DEMO_FIXTURES,
    GammaClient,
    MarketReference,
    Outcome,
    PolymarketNotFound,
    demo_markets,
    parse_market,
    parse_market_reference,
)

FIXTURES = Path(__file__).parent / "fixtures" / "gamma"
BASE = "https://gamma-api.polymarket.test"
BTC_CONDITION = "0xeb8d50cefcb367c18d701a405db7e20426e2065580231a8cfa1b40fc453caf49"
BTC_SLUG = "btc-updown-5m-1774334100"
UP_TOKEN = "76113456775305083620588924844077855692564580220877311373887058720584900078128"
DOWN_TOKEN = "34812490117597092926676691594130607461359451376213032675677765803451137597140"
FED_EVENT = "fed-decision-in-march-2026"
UTC = dt.UTC


def payload(name: str) -> str:
    return (FIXTURES / name).read_text()


def real_market(**changes) -> dict:
    return {**json.loads(payload("market_1689303.json")), **changes}


@pytest.fixture
def api(settings):
    settings.POLYMARKET_GAMMA_URL = BASE
    settings.POLYMARKET_TIMEOUT_SECONDS = 4
    with responses.RequestsMock() as mock:
        yield mock


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("https://polymarket.com/event/fed-decision-in-march-2026", "event_slug", FED_EVENT),
        ("https://www.polymarket.com/event/fed-decision-in-march-2026/", "event_slug", FED_EVENT),
        ("  polymarket.com/event/fed-decision-in-march-2026?tid=1774334#rules ", "event_slug", FED_EVENT),
        (
            "https://polymarket.com/event/fed-decision-in-march-2026/fed-holds-rates-march-2026",
            "market_slug",
            "fed-holds-rates-march-2026",
        ),
        (f"http://www.polymarket.com/market/{BTC_SLUG}?via=share", "market_slug", BTC_SLUG),
        (BTC_SLUG, "market_slug", BTC_SLUG),
        ("1689303", "gamma_id", "1689303"),
        (BTC_CONDITION.upper().replace("0X", "0x"), "condition_id", BTC_CONDITION),
    ],
)
def test_polymarket_references_are_classified(text, kind, value):
    assert parse_market_reference(text) == MarketReference(kind, value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello world!",
        "bitcoin",
        "0xeb8d50ce",
        "https://kalshi.com/markets/fed-decision-in-march-2026",
        "https://polymarket.com.evil.example/event/fed-decision-in-march-2026",
        "https://evil.example/?next=polymarket.com/event/fed-decision-in-march-2026",
        "https://polymarket.com/",
        "https://polymarket.com/profile/0x7c3db723f1d4d8cb9c550095203b686cb11e5c6b",
        "https://polymarket.com/event/a/b/c",
        "ftp://polymarket.com/event/fed-decision-in-march-2026",
        "https://polymarket.com/event/<script>",
    ],
)
def test_anything_else_is_refused_in_plain_words(text):
    with pytest.raises(ValueError, match=r"^That is not a Polymarket market or event link: "):
        parse_market_reference(text)


def test_every_field_of_the_real_market_is_parsed_exactly(api):
    api.get(f"{BASE}/markets/1689303", body=payload("market_1689303.json"))
    with GammaClient() as client:
        market = client.market_by_id("1689303")

    assert market.gamma_id == "1689303"
    assert market.condition_id == BTC_CONDITION
    assert market.question_id == "0xa039e15852152cfd2b4fe9213af289928e47751171dc2453c92d70005ddc5021"
    assert market.slug == BTC_SLUG
    assert market.question == "Bitcoin Up or Down - March 24, 2:35AM-2:40AM ET"
    assert market.description.startswith('This market will resolve to "Up" if the Bitcoin price')
    assert market.description.endswith("not according to other sources or spot markets.")
    assert market.resolution_source == "https://data.chain.link/streams/btc-usd"
    assert market.start_date == dt.datetime(2026, 3, 23, 6, 43, 17, 317045, tzinfo=UTC)
    assert market.end_date == dt.datetime(2026, 3, 24, 6, 40, tzinfo=UTC)
    assert market.created_at == dt.datetime(2026, 3, 23, 6, 42, 7, 483600, tzinfo=UTC)
    assert market.updated_at == dt.datetime(2026, 3, 24, 6, 49, 29, 967248, tzinfo=UTC)
    assert market.closed_time == dt.datetime(2026, 3, 24, 6, 40, 23, tzinfo=UTC)  # "… 06:40:23+00"
    assert market.closed_time.utcoffset() == dt.timedelta(0)
    assert (market.active, market.closed, market.archived, market.neg_risk) == (True, True, False, False)
    assert market.outcomes == (
        Outcome(name="Up", price=Decimal("1"), token_id=UP_TOKEN),
        Outcome(name="Down", price=Decimal("0"), token_id=DOWN_TOKEN),
    )
    assert all(isinstance(outcome.token_id, str) for outcome in market.outcomes)
    assert market.uma_status == "resolved"
    assert market.uma_history == ()
    assert market.volume == Decimal("147043.20902699974")
    assert market.order_min_size == Decimal("5")
    assert market.tick_size == Decimal("0.001")
    assert (market.fees_enabled, market.fee_type) == (True, "crypto_fees")
    assert (market.event_gamma_id, market.event_slug, market.event_title) == ("", "", "")
    assert market.group_item_title == ""
    assert market.automatically_resolved is True
    assert market.resolved is True
    assert market.resolved_outcome == "Up"
    assert market.raw == json.loads(payload("market_1689303.json"))


def test_the_raw_payload_stores_as_json_without_changing_a_digit(api):
    api.get(f"{BASE}/markets/slug/{BTC_SLUG}", body=payload("market_1689303.json"))
    with GammaClient() as client:
        market = client.market_by_slug(BTC_SLUG)

    stored = json.loads(json.dumps(market.raw))
    assert stored == json.loads(payload("market_1689303.json"))
    assert '"volumeNum": 147043.20902699974' in json.dumps(market.raw)


def test_requests_carry_a_user_agent_and_the_configured_timeouts(api):
    api.get(f"{BASE}/markets/1689303", body=payload("market_1689303.json"))
    with GammaClient() as client:
        client.market_by_id(1689303)

    request = api.calls[0].request
    assert request.headers["User-Agent"].startswith("advanced-support-portal/")
    assert request.req_kwargs["timeout"] == (4, 4)


def test_an_event_link_returns_every_market_of_the_event(api):
    api.get(f"{BASE}/events/slug/{FED_EVENT}", body=payload("event_neg_risk_fed_march_2026.json"))
    with GammaClient() as client:
        markets = client.lookup(parse_market_reference(f"https://polymarket.com/event/{FED_EVENT}"))

    assert [m.group_item_title for m in markets] == ["No change", "25 bps decrease", "50+ bps decrease"]
    assert [m.resolved_outcome for m in markets] == ["Yes", "No", "No"]
    assert all(m.neg_risk and m.resolved for m in markets)
    assert {(m.event_gamma_id, m.event_slug, m.event_title) for m in markets} == {
        ("90100", FED_EVENT, "Fed decision in March 2026?")
    }
    assert markets[0].closed_time == dt.datetime(2026, 3, 18, 18, 12, 5, tzinfo=UTC)
    assert markets[0].automatically_resolved is False  # absent from the payload: no crash, no guess


def test_a_slug_that_is_not_a_market_is_tried_as_an_event(api):
    api.get(f"{BASE}/markets/slug/{FED_EVENT}", status=404, body='{"error": "not found"}')
    api.get(f"{BASE}/events/slug/{FED_EVENT}", body=payload("event_neg_risk_fed_march_2026.json"))
    with GammaClient() as client:
        markets = client.lookup(parse_market_reference(FED_EVENT))

    assert len(markets) == 3
    assert [call.request.path_url for call in api.calls] == [
        f"/markets/slug/{FED_EVENT}",
        f"/events/slug/{FED_EVENT}",
    ]


def test_an_event_link_carrying_a_market_slug_finds_the_market(api):
    api.get(f"{BASE}/events/slug/{BTC_SLUG}", status=404, body='{"error": "not found"}')
    api.get(f"{BASE}/markets/slug/{BTC_SLUG}", body=payload("market_1689303.json"))
    with GammaClient() as client:
        markets = client.lookup(parse_market_reference(f"https://polymarket.com/event/{BTC_SLUG}"))

    assert [m.gamma_id for m in markets] == ["1689303"]


def test_a_slug_that_is_neither_is_not_found(api):
    api.get(f"{BASE}/markets/slug/no-such-market", status=404, body='{"error": "not found"}')
    api.get(f"{BASE}/events/slug/no-such-market", status=404, body='{"error": "not found"}')
    with GammaClient() as client, pytest.raises(PolymarketNotFound) as raised:
        client.lookup(MarketReference("market_slug", "no-such-market"))
    assert raised.value.message == "Polymarket has no market or event with the slug 'no-such-market'."


def condition_query(closed: str):
    return matchers.query_param_matcher({"condition_ids": BTC_CONDITION, "closed": closed})


def test_condition_id_lookup_includes_closed_markets(api):
    api.get(f"{BASE}/markets", body=f"[{payload('market_1689303.json')}]", match=[condition_query("true")])
    with GammaClient() as client:
        markets = client.lookup(parse_market_reference(BTC_CONDITION))

    assert [m.condition_id for m in markets] == [BTC_CONDITION]
    assert len(api.calls) == 1


def test_condition_id_lookup_falls_back_to_open_markets(api):
    open_market = real_market(closed=False, closedTime=None, umaResolutionStatus="")
    api.get(f"{BASE}/markets", body="[]", match=[condition_query("true")])
    api.get(f"{BASE}/markets", json=[open_market], match=[condition_query("false")])
    with GammaClient() as client:
        market = client.market_by_condition_id(BTC_CONDITION)

    assert market.closed is False and market.resolved is False and market.resolved_outcome == ""


def test_condition_id_lookup_refuses_a_list_that_ignored_the_filter(api):
    other = real_market(conditionId="0x" + "ab" * 32)
    api.get(f"{BASE}/markets", json=[other], match=[condition_query("true")])
    with GammaClient() as client, pytest.raises(PolymarketBadResponse, match="other than the one asked for"):
        client.market_by_condition_id(BTC_CONDITION)


def test_an_unknown_condition_id_is_not_found(api):
    api.get(f"{BASE}/markets", body="[]", match=[condition_query("true")])
    api.get(f"{BASE}/markets", body="[]", match=[condition_query("false")])
    with (
        GammaClient() as client,
        pytest.raises(PolymarketNotFound, match="has no market with the condition id"),
    ):
        client.market_by_condition_id(BTC_CONDITION)


def test_an_unknown_id_is_not_found_in_plain_words(api):
    api.get(f"{BASE}/markets/999999999", status=404, body='{"type": "not found error"}')
    with GammaClient() as client, pytest.raises(PolymarketNotFound) as raised:
        client.lookup(parse_market_reference("999999999"))
    assert raised.value.message == "Polymarket has no market with the id 999999999."
    assert isinstance(raised.value, PolymarketBadResponse)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_unavailable(api, status):
    api.get(f"{BASE}/markets/1689303", status=status, body="upstream trouble")
    with GammaClient() as client, pytest.raises(PolymarketUnavailable, match=f"HTTP {status}"):
        client.market_by_id("1689303")


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (requests.exceptions.ReadTimeout(), "did not answer within 4 seconds"),
        (requests.exceptions.ConnectTimeout(), "did not answer within 4 seconds"),
        (requests.exceptions.ConnectionError(), "could not be reached"),
    ],
)
def test_network_failures_are_unavailable(api, failure, message):
    api.get(f"{BASE}/events/slug/{FED_EVENT}", body=failure)
    with GammaClient() as client, pytest.raises(PolymarketUnavailable, match=message):
        client.event_by_slug(FED_EVENT)


@pytest.mark.parametrize(
    ("path", "status", "body", "message"),
    [
        ("/markets/1689303", 200, "<html>maintenance</html>", "not JSON"),
        ("/markets/1689303", 200, '{"volumeNum": NaN}', "not JSON"),
        ("/markets/1689303", 200, "[]", "market in an unexpected shape"),
        ("/markets/1689303", 400, '{"error": "bad id"}', "HTTP 400"),
        ("/markets/1689303", 200, payload("market_malformed.json"), "outcomePrices"),
    ],
)
def test_garbage_is_a_bad_response(api, path, status, body, message):
    api.get(f"{BASE}{path}", status=status, body=body)
    with GammaClient() as client, pytest.raises(PolymarketBadResponse, match=message) as raised:
        client.market_by_id("1689303")
    assert not isinstance(raised.value, PolymarketNotFound)


def test_an_event_without_a_markets_list_is_a_bad_response(api):
    api.get(f"{BASE}/events/slug/{FED_EVENT}", json={"id": "1", "markets": "none"})
    with GammaClient() as client, pytest.raises(PolymarketBadResponse, match="event in an unexpected shape"):
        client.event_by_slug(FED_EVENT)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("closed", "true"),
        ("closedTime", "yesterday"),
        ("endDate", 1774334400),
        ("question", ["Bitcoin"]),
        ("outcomes", '"Up"'),
        ("outcomes", "[1, 2]"),
        ("outcomePrices", '["1", "zero"]'),
        ("outcomePrices", '["1"]'),
        ("clobTokenIds", "[7.6e76, 3.4e76]"),
        ("umaResolutionStatuses", '[{"status": "resolved"}]'),
        ("volume", {"usd": 1}),
        ("orderPriceMinTickSize", True),
        ("events", "btc"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(field, value):
    with pytest.raises(PolymarketBadResponse, match=f"unexpected {field}:"):
        parse_market(real_market(**{field: value}))


def test_missing_fields_do_not_crash_parsing():
    market = parse_market({"id": 42})

    assert market.gamma_id == "42"
    assert (market.condition_id, market.description, market.uma_status, market.fee_type) == ("", "", "", "")
    assert market.outcomes == () and market.uma_history == ()
    assert (market.end_date, market.closed_time, market.volume, market.tick_size) == (None, None, None, None)
    assert market.resolved is False and market.resolved_outcome == ""


def test_real_lists_and_integer_token_ids_are_read_as_well_as_encoded_ones():
    market = parse_market(
        real_market(
            outcomes=["Up", "Down"], outcomePrices=None, clobTokenIds=[int(UP_TOKEN), int(DOWN_TOKEN)]
        )
    )
    assert market.outcomes == (Outcome("Up", None, UP_TOKEN), Outcome("Down", None, DOWN_TOKEN))


def test_date_only_end_dates_are_midnight_utc():
    market = parse_market(real_market(endDate=None))
    assert market.end_date == dt.datetime(2026, 3, 24, tzinfo=UTC)


def test_a_cancelled_game_is_detected_as_fifty_fifty():
    market = parse_market(json.loads(payload("market_fifty_fifty.json")))

    assert [(o.name, o.price) for o in market.outcomes] == [
        ("Rockets", Decimal("0.5")),
        ("Hawks", Decimal("0.5")),
    ]
    assert market.resolved is True
    assert market.resolved_outcome == "50-50"
    assert market.event_title == "Rockets vs. Hawks"


def test_an_open_market_even_at_half_is_not_resolved():
    raw = json.loads(payload("market_open.json"))
    market = parse_market(raw)
    assert (market.closed, market.resolved, market.resolved_outcome) == (False, False, "")
    assert market.closed_time is None and market.uma_status == ""

    new_market = parse_market({**raw, "outcomePrices": '["0.5", "0.5"]'})
    assert (new_market.resolved, new_market.resolved_outcome) == (False, "")


def test_a_closed_market_uma_has_not_settled_shows_no_outcome():
    market = parse_market(real_market(outcomePrices='["0.9995", "0.0005"]', umaResolutionStatus="proposed"))
    assert (market.closed, market.resolved, market.resolved_outcome) == (True, False, "")


def test_the_uma_dispute_history_is_kept_in_order():
    market = parse_market(json.loads(payload("market_disputed.json")))

    assert market.uma_history == ("proposed", "disputed", "proposed", "resolved")
    assert market.uma_status == "resolved"
    assert market.resolved_outcome == "Yes"
    assert market.group_item_title == "44-45°F"
    assert (market.event_gamma_id, market.event_slug) == (
        "90200",
        "highest-temperature-in-nyc-on-march-14-2026",
    )
    assert market.closed_time == dt.datetime(2026, 3, 16, 19, 31, 9, tzinfo=UTC)
    assert market.fee_type == "weather_fees"


def test_every_fixture_but_the_recorded_one_is_labelled_synthetic():
    for path in FIXTURES.glob("*.json"):
        document = json.loads(path.read_text())
        assert ("_synthetic" in document) == (path.name != "market_1689303.json"), path.name


class TestDemoMarkets:
    def test_are_read_offline(self, settings):
        settings.POLYMARKET_GAMMA_URL = BASE
        # Nothing registered: a request reaching the network layer would fail the test.
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            markets = demo_markets()
        assert len(mock.calls) == 0
        assert len(markets) == 6

    def test_span_three_events_one_of_them_negative_risk(self):
        markets = demo_markets()
        events = {m.event_slug: m.event_title for m in markets}
        assert len(events) == 3 and all(events.values())
        neg_risk_events = {m.event_slug for m in markets if m.neg_risk}
        assert neg_risk_events == {"demo-ucl-winner-2027"}
        assert len({m.gamma_id for m in markets}) == len({m.condition_id for m in markets}) == 6

    def test_show_open_disputed_and_fifty_fifty_markets_with_rules(self):
        markets = {m.slug: m for m in demo_markets()}
        assert markets["demo-fed-cut-june-2027"].resolved is False
        assert markets["demo-open-2026-mens-final"].resolved_outcome == "Player A"
        assert "disputed" in markets["demo-open-2026-mens-final"].uma_history
        assert markets["demo-open-2026-womens-final"].resolved_outcome == "50-50"
        assert all("Synthetic demo market, not from Polymarket." in m.description for m in markets.values())
        assert all(len(o.token_id) > 70 for m in markets.values() for o in m.outcomes)

    def test_every_demo_file_is_marked_synthetic(self):
        paths = sorted(DEMO_FIXTURES.glob("*.json"))
        assert len(paths) == 3
        assert all(json.loads(p.read_text())["_synthetic"] == SYNTHETIC_MARKER for p in paths)
