"""Wallet activity snapshots on dispute cases, against recorded-style Data API pages served by
`responses` (never the network). The v1 activity fixture is converted from Polymarket's py-sdk v2
fixture plus synthetic deposit/withdrawal rows: integrations/tests/fixtures/polymarket/README.md."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import make_account
from disputes.models import CaseEvent, DisputeCase, WalletActivityRow, WalletActivitySnapshot
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import dispute_file
from disputes.services.snapshots import (
    CLOB_V2_CUTOVER,
    SOURCE,
    address_url,
    collateral_at,
    default_window,
    explorer_url,
    snapshot_rows,
    wallet_snapshot_take,
)
from disputes.tests.factories import gamma_market
from integrations.polymarket.data_api import ActivityRow

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "integrations" / "tests" / "fixtures" / "polymarket"
BASE = "https://data-api.polymarket.test"
UTC = dt.UTC
NOW = dt.datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
START = dt.datetime(2026, 4, 1, tzinfo=UTC)
END = dt.datetime(2026, 10, 1, tzinfo=UTC)
WHALE = "0x7c3db723f1d4d8cb9c550095203b686cb11e5c6b"
WHALE_CHECKSUMMED = "0x7C3Db723F1D4d8cB9C550095203b686cB11E5C6B"
LAPTOP = "0x0a91645ed98ad09817e051a17466cff087b920393aefba0fe74e8735fc192f15"
LAPTOP_TX = "0xa661459fc2483ddb4e5c7d13c76347fa2b1fb2faae10eed484c810ae46c471dd"


def activity_page() -> str:
    return (FIXTURES / "data_api_v1_activity.json").read_text()


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """A fixed 'now' after every fixture row, so the window checks don't depend on today."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def api(settings):
    settings.POLYMARKET_DATA_URL = BASE
    settings.POLYMARKET_DEMO_FIXTURES = False
    settings.POLYMARKET_TIMEOUT_SECONDS = 4
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def case(specialist):
    return dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category="order_execution",
        claim="My deposit never showed up and my order filled at a worse price.",
    )


@pytest.fixture
def market(specialist):
    return market_upsert_from_gamma(data=gamma_market(conditionId=LAPTOP), by=specialist).market


@pytest.fixture
def market_case(specialist, market):
    return dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category="platform_mechanics",
        claim="The LAPTOP market paid out late.",
        market=market,
    )


def take(case, by, **changes):
    arguments = {"case": case, "by": by, "wallet_address": WHALE, "start": START, "end": END, **changes}
    return wallet_snapshot_take(**arguments)


def assert_nothing_written(case, revision):
    assert not WalletActivitySnapshot.objects.exists()
    assert not WalletActivityRow.objects.exists()
    assert not case.events.filter(kind=CaseEvent.Kind.EVIDENCE).exists()
    assert DisputeCase.objects.get(pk=case.pk).revision == revision


def test_rows_are_stored_with_the_collateral_of_their_time(api, specialist, case):
    api.get(f"{BASE}/activity", body=activity_page())

    snapshot = take(case, specialist, wallet_address=WHALE_CHECKSUMMED)

    assert snapshot.wallet_address == WHALE  # normalised to lowercase
    assert (snapshot.window_start, snapshot.window_end) == (START, END)
    assert (snapshot.source, snapshot.condition_id, snapshot.truncated) == (SOURCE, "", False)
    assert (snapshot.row_count, snapshot.fetched_by, snapshot.fetched_at) == (6, specialist, NOW)
    rows = list(snapshot_rows(snapshot))
    assert [(row.kind, row.at, row.collateral) for row in rows] == [
        ("DEPOSIT", dt.datetime(2026, 4, 20, 9, 30, tzinfo=UTC), "USDC.e"),
        ("TRADE", dt.datetime(2026, 4, 27, 23, 59, 59, tzinfo=UTC), "USDC.e"),
        ("TRADE", CLOB_V2_CUTOVER, "pUSD"),
        ("TRADE", dt.datetime(2026, 9, 8, 16, 47, 6, tzinfo=UTC), "pUSD"),
        ("TRADE", dt.datetime(2026, 9, 8, 16, 56, 49, tzinfo=UTC), "pUSD"),
        ("WITHDRAWAL", dt.datetime(2026, 9, 9, 12, 0, tzinfo=UTC), "pUSD"),
    ]
    assert all(row.case_id == case.pk for row in rows)  # denormalised for hash search
    laptop = WalletActivityRow.objects.get(transaction_hash=LAPTOP_TX)
    assert (laptop.condition_id, laptop.outcome, laptop.side) == (LAPTOP, "Yes", "BUY")
    assert laptop.title == "LAPTOP FDV above $25M one day after launch?"
    assert (laptop.size, laptop.usdc_size) == (Decimal("14.285715"), Decimal("13.285715"))
    assert laptop.price == Decimal("0.9300000035")
    # The request asked for deposits and withdrawals over exactly the window.
    params = api.calls[0].request.params
    assert params["excludeDepositsWithdrawals"] == "false"
    assert (params["start"], params["end"]) == (str(int(START.timestamp())), str(int(END.timestamp())))
    assert params["user"] == WHALE


def test_a_market_case_keeps_its_market_and_the_money_movements(api, specialist, market_case):
    api.get(f"{BASE}/activity", body=activity_page())

    snapshot = take(market_case, specialist)

    assert snapshot.condition_id == LAPTOP
    assert [(row.kind, row.condition_id) for row in snapshot_rows(snapshot)] == [
        ("DEPOSIT", ""),
        ("TRADE", LAPTOP),
        ("TRADE", LAPTOP),
        ("WITHDRAWAL", ""),
    ]
    deposit = snapshot.rows.get(kind="DEPOSIT")
    assert (deposit.usdc_size, deposit.collateral, deposit.side) == (Decimal("1500"), "USDC.e", "")
    assert deposit.transaction_hash == "0x25155784e37c7cd3c391f3b7c97db44f6f314dadab737e4b4ce3e269564f51dc"
    # The market is filtered here: `market=` would make the service drop deposits and withdrawals.
    assert "market" not in api.calls[0].request.params


def test_the_event_is_recorded_and_the_revision_bumped(api, specialist, case):
    api.get(f"{BASE}/activity", body=activity_page())
    revision = case.revision

    snapshot = take(case, specialist)

    event = case.events.get(kind=CaseEvent.Kind.EVIDENCE)
    assert event.summary == "Wallet activity snapshot: 6 rows for 0x7c3d…5c6b"
    assert event.actor == specialist
    assert event.after["snapshot"] == snapshot.pk
    assert event.after["row_count"] == 6 and event.after["truncated"] is False
    assert event.after["window_start"] == START.isoformat()
    assert DisputeCase.objects.get(pk=case.pk).revision == revision + 1
    assert case.revision == revision + 1  # the caller's instance is current too


def test_the_fetch_happens_outside_any_transaction(api, specialist, case):
    baseline = len(connection.atomic_blocks)  # the test's own wrapping transaction
    depths = []

    def answer(request):
        depths.append(len(connection.atomic_blocks))
        return 200, {}, activity_page()

    api.add_callback(responses.GET, f"{BASE}/activity", callback=answer)
    take(case, specialist)
    assert depths == [baseline]


def test_a_truncated_answer_is_flagged(specialist, case):
    row = ActivityRow(
        at=dt.datetime(2026, 5, 1, tzinfo=UTC),
        kind="TRADE",
        condition_id=LAPTOP,
        title="T" * 600,  # longer than the column: cut to fit
        outcome="Yes",
        side="BUY",
        size=Decimal("1.123456789"),  # 9 places: rounded to the column's 8
        usdc_size=None,
        price=None,
        transaction_hash=LAPTOP_TX,
    )

    class Client:
        def activity(self, user, *, start, end, market=None):
            return [row], True

    snapshot = take(case, specialist, client=Client())

    assert snapshot.truncated is True and snapshot.row_count == 1
    assert "truncated" in case.events.get(kind=CaseEvent.Kind.EVIDENCE).summary
    stored = snapshot.rows.get()
    assert len(stored.title) == 500
    assert stored.size == Decimal("1.12345679") and stored.usdc_size is None


def test_an_amount_too_large_to_store_is_refused(specialist, case):
    huge = ActivityRow(
        at=dt.datetime(2026, 5, 1, tzinfo=UTC),
        kind="DEPOSIT",
        condition_id="",
        title="",
        outcome="",
        side="",
        size=Decimal("1e30"),
        usdc_size=Decimal("1e30"),
        price=None,
        transaction_hash="",
    )

    class Client:
        def activity(self, user, *, start, end, market=None):
            return [huge], False

    with pytest.raises(ValidationError, match="too large to store"):
        take(case, specialist, client=Client())
    assert_nothing_written(case, case.revision)


def test_an_empty_answer_is_still_a_snapshot(api, specialist, case):
    api.get(f"{BASE}/activity", json=[])
    snapshot = take(case, specialist)
    assert snapshot.row_count == 0
    assert case.events.get(kind=CaseEvent.Kind.EVIDENCE).summary.startswith(
        "Wallet activity snapshot: 0 rows"
    )


def test_market_resolution_cases_are_refused(api, specialist, market):
    resolution_case = dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category="market_resolution",
        claim="It resolved wrongly.",
        market=market,
    )
    with pytest.raises(ValidationError) as caught:
        take(resolution_case, specialist)
    assert caught.value.messages == [
        "Wallet activity snapshots are for order-execution and platform-mechanics cases."
    ]
    assert len(api.calls) == 0
    assert_nothing_written(resolution_case, resolution_case.revision)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "0x123",
        "7c3db723f1d4d8cb9c550095203b686cb11e5c6b",  # no 0x
        "0x7c3db723f1d4d8cb9c550095203b686cb11e5c6g",  # not hex
        "0x7C3Db723F1D4d8cB9C550095203b686cB11E5C6b",  # mixed case, checksum broken
    ],
)
def test_bad_addresses_are_refused(api, specialist, case, address):
    with pytest.raises(ValidationError) as caught:
        take(case, specialist, wallet_address=address)
    assert set(caught.value.message_dict) == {"wallet_address"}
    assert len(api.calls) == 0
    assert_nothing_written(case, case.revision)


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (END, END, "end", "must end after it starts"),
        (END, START, "end", "must end after it starts"),
        (START - dt.timedelta(days=200), END, "end", "at most 366 days"),
        (START, NOW + dt.timedelta(minutes=5), "end", "can’t end in the future"),
        (None, END, "start", "Choose a date and time"),
        (dt.datetime(2026, 4, 1), END, "start", "time zone"),  # naive on purpose
    ],
)
def test_bad_windows_are_refused(api, specialist, case, start, end, field, message):
    with pytest.raises(ValidationError) as caught:
        take(case, specialist, start=start, end=end)
    assert message in " ".join(caught.value.message_dict[field])
    assert len(api.calls) == 0
    assert_nothing_written(case, case.revision)


def test_a_window_of_exactly_366_days_ending_just_now_is_accepted(api, specialist, case):
    api.get(f"{BASE}/activity", json=[])
    end = NOW + dt.timedelta(seconds=30)
    snapshot = take(case, specialist, start=end - dt.timedelta(days=366), end=end)
    assert snapshot.window_end == end


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": 503, "body": "maintenance"}, "unavailable or rate-limiting us (HTTP 503)"),
        ({"status": 400, "body": "{}"}, "refused the request (HTTP 400)"),
        ({"body": "<html>maintenance</html>"}, "not JSON"),
        ({"body": '[{"type": "TRADE"}]'}, "without a timestamp"),
        ({"body": requests.exceptions.ConnectionError()}, "could not be reached"),
    ],
)
def test_polymarket_failures_are_shown_and_nothing_is_written(api, specialist, case, answer, message):
    api.get(f"{BASE}/activity", **answer)
    revision = case.revision

    with pytest.raises(ValidationError) as caught:
        take(case, specialist)

    assert len(caught.value.messages) == 1 and message in caught.value.messages[0]
    assert_nothing_written(case, revision)


def test_collateral_changes_at_the_cutover():
    assert dt.datetime(2026, 4, 28, tzinfo=UTC) == CLOB_V2_CUTOVER
    assert collateral_at(CLOB_V2_CUTOVER - dt.timedelta(microseconds=1)) == "USDC.e"
    assert collateral_at(CLOB_V2_CUTOVER) == "pUSD"
    assert collateral_at(dt.datetime(2024, 11, 5, tzinfo=UTC)) == "USDC.e"
    # The same instant written in another time zone is the same answer.
    assert (
        collateral_at(dt.datetime(2026, 4, 27, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))) == "pUSD"
    )


def test_explorer_links_point_at_polygonscan():
    assert explorer_url(LAPTOP_TX) == f"https://polygonscan.com/tx/{LAPTOP_TX}"
    assert explorer_url(LAPTOP_TX.upper().replace("0X", "0x")) == f"https://polygonscan.com/tx/{LAPTOP_TX}"
    assert explorer_url("") == ""
    assert address_url(WHALE_CHECKSUMMED) == f"https://polygonscan.com/address/{WHALE}"


class TestDefaultWindow:
    def test_a_case_without_a_market_looks_back_30_days_from_filing(self, case):
        assert default_window(case) == (NOW - dt.timedelta(days=30), NOW)

    def test_a_market_case_covers_the_market_until_a_week_after_it_closed(self, market_case, market):
        start, end = default_window(market_case)
        assert start == market.start_date == dt.datetime(2026, 3, 23, 6, 43, 17, 317045, tzinfo=UTC)
        assert end == market.closed_at + dt.timedelta(days=7)

    def test_an_unknown_market_start_falls_back_to_30_days_before_filing(self, market_case, market):
        market.start_date = None
        market.closed_at = market.end_date = None  # still open when the case was filed
        assert default_window(market_case) == (market_case.created_at - dt.timedelta(days=30), NOW)

    def test_a_case_filed_long_after_the_close_still_gets_a_window_before_the_close(
        self, market_case, market
    ):
        market.start_date = None  # filing (Oct) - 30 days would start after the March close
        start, end = default_window(market_case)
        assert end == market.closed_at + dt.timedelta(days=7)
        assert start == end - dt.timedelta(days=30)

    def test_the_end_date_stands_in_for_a_missing_close(self, market_case, market):
        market.closed_at = None
        assert default_window(market_case)[1] == market.end_date + dt.timedelta(days=7)

    def test_an_open_market_or_a_recent_close_ends_now(self, market_case, market):
        market.closed_at = NOW - dt.timedelta(days=2)
        assert default_window(market_case)[1] == NOW
        market.closed_at = market.end_date = None
        assert default_window(market_case)[1] == NOW

    def test_a_long_market_is_cut_to_the_latest_366_days(self, market_case, market):
        market.start_date = NOW - dt.timedelta(days=900)
        market.closed_at = market.end_date = None
        assert default_window(market_case) == (NOW - dt.timedelta(days=366), NOW)

    def test_the_default_window_is_accepted_by_the_snapshot(self, api, specialist, market_case):
        api.get(f"{BASE}/activity", json=[])
        start, end = default_window(market_case)
        assert take(market_case, specialist, start=start, end=end).window_end == end


def test_attach_from_the_case_page_then_read_it_with_links_and_collateral(
    client, api, case, specialist, leader
):
    api.add(responses.GET, f"{BASE}/activity", body=activity_page(), content_type="application/json")
    client.force_login(specialist)
    response = client.post(
        f"/disputes/{case.reference}/wallet-activity/",
        {"wallet_address": WHALE_CHECKSUMMED, "start": "2026-04-01T00:00", "end": "2026-10-01T00:00"},
    )
    assert response.status_code == 302
    snapshot = WalletActivitySnapshot.objects.get()
    client.force_login(leader)
    page = client.get(f"/disputes/{case.reference}/").content.decode()
    assert f"https://polygonscan.com/tx/{LAPTOP_TX}" in page
    assert "USDC.e" in page and "pUSD" in page and "Deposit" in page and "Withdrawal" in page
    assert snapshot.row_count == page.count("polygonscan.com/tx/")


def test_bad_snapshot_requests_from_the_page_are_400_and_store_nothing(client, api, case, specialist):
    api.add(responses.GET, f"{BASE}/activity", status=503)
    client.force_login(specialist)
    url = f"/disputes/{case.reference}/wallet-activity/"
    cases = [
        (
            {"wallet_address": "0x123", "start": "2026-04-01T00:00", "end": "2026-10-01T00:00"},
            "wallet address",
        ),
        ({"wallet_address": WHALE, "start": "2026-10-01T00:00", "end": "2026-04-01T00:00"}, ""),
        ({"wallet_address": WHALE, "start": "9999-01-01T00:00", "end": "2026-10-01T00:00"}, "between 2000"),
        ({"wallet_address": WHALE, "start": "2026-04-01T00:00", "end": "2026-10-01T00:00"}, "Polymarket"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400 and message in response.content.decode()
    assert not WalletActivitySnapshot.objects.exists()
