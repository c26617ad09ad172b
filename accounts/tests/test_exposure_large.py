"""A wallet with thousands of positions (issue 22, bad input and faults): the Data API's
/v2/positions answers them over cursor pages (synthetic rows shaped like the recorded whale's),
the wallet's exposure is stored whole, a refresh after selling most of them leaves only the rest,
and positions that run past the client's page cap are refused instead of stored cut short."""

import copy
import json
from decimal import Decimal

import pytest
import responses
from django.utils import timezone

from accounts.models import Exposure, WalletPortfolio
from accounts.selectors import account_holdings
from accounts.services.exposure import exposure_is_current, wallet_positions_refresh
from accounts.tests.factories import DATA_API, RECORDED_POLYMARKET, WHALE_WALLET, make_account
from integrations.polymarket import data_api
from integrations.polymarket.data_api import DataApiClient

pytestmark = pytest.mark.django_db
RECORDED_ROW = json.loads((RECORDED_POLYMARKET / "data_api_v2_positions.json").read_text())[0]


def synthetic_rows(count: int) -> list[dict]:
    """`count` open positions: two outcomes in each of count/2 markets, each row the recorded
    one with its ids, size and value changed (synthetic, shaped like the real payload)."""
    rows = []
    for n in range(count):
        market, outcome = divmod(n, 2)
        row = copy.deepcopy(RECORDED_ROW)
        row.update(
            token_id=str(10**70 + n),
            condition_id=f"0x{market + 1:064x}",
            outcome=("Yes", "No")[outcome],
            opposite_outcome=("No", "Yes")[outcome],
            outcome_index=outcome,
            current_size=float(n + 1),
            current_value=round((n + 1) * 0.5, 4),
            title=f"Synthetic market {market + 1}",
            slug=f"synthetic-market-{market + 1}",
        )
        rows.append(row)
    return rows


def serve_positions(mock: responses.RequestsMock, rows: list[dict], *, page_size: int) -> list[int]:
    """Answer /v2/positions with `rows` in pages of `page_size` rows, linked by opaque cursors.
    Returns the list the page numbers served are appended to."""
    served: list[int] = []

    def answer(request):
        cursor = request.params.get("cursor")
        page = int(cursor.removeprefix("page-")) if cursor else 0
        served.append(page)
        chunk = rows[page * page_size : (page + 1) * page_size]
        more = (page + 1) * page_size < len(rows)
        body = {"data": chunk, "pagination": {"next_cursor": f"page-{page + 1}" if more else None}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    mock.remove(responses.GET, f"{DATA_API}/v2/positions")
    mock.add_callback(responses.GET, f"{DATA_API}/v2/positions", callback=answer)
    return served


@pytest.fixture
def whale():
    return make_account(display_name="Whale", wallets=[WHALE_WALLET])


def refresh(account) -> bool:
    wallet = account.wallets.get()
    with DataApiClient() as client:
        return wallet_positions_refresh(wallet, client)


def test_three_thousand_positions_over_thirty_pages_are_stored_whole(polymarket, whale):
    served = serve_positions(polymarket, synthetic_rows(3000), page_size=100)

    assert refresh(whale)

    assert served == list(range(30))
    portfolio = WalletPortfolio.objects.get(wallet__account=whale)
    assert len(portfolio.positions) == 3000 and portfolio.last_error == ""
    exposures = Exposure.objects.filter(account=whale)
    assert exposures.count() == 3000
    assert exposures.values("condition_id").distinct().count() == 1500
    last = exposures.get(condition_id=f"0x{1500:064x}", outcome="No")
    assert (last.size, last.current_value) == (Decimal("3000"), Decimal("1500"))
    assert sum(e.size for e in exposures) == Decimal(3000 * 3001 // 2)


def test_after_selling_most_of_them_only_the_remaining_positions_are_left(polymarket, whale):
    rows = synthetic_rows(3000)
    serve_positions(polymarket, rows, page_size=100)
    assert refresh(whale)

    kept = rows[1000:1120]  # sold all but 120 (60 markets, both outcomes)
    serve_positions(polymarket, kept, page_size=100)
    assert refresh(whale)

    exposures = Exposure.objects.filter(account=whale)
    assert exposures.count() == 120
    assert set(exposures.values_list("condition_id", "outcome")) == {
        (row["condition_id"], row["outcome"]) for row in kept
    }
    assert len(WalletPortfolio.objects.get(wallet__account=whale).positions) == 120


def test_positions_past_the_page_cap_are_refused_and_the_last_complete_ones_stay_stale(polymarket, whale):
    serve_positions(polymarket, synthetic_rows(120), page_size=100)
    assert refresh(whale)
    before = WalletPortfolio.objects.get(wallet__account=whale)

    # One page more than the client follows: it must not store the first 50 pages as the wallet.
    page_size = 60
    served = serve_positions(
        polymarket, synthetic_rows(page_size * (data_api.MAX_PAGES + 1)), page_size=page_size
    )
    assert not refresh(whale)

    assert len(served) == data_api.MAX_PAGES
    portfolio = WalletPortfolio.objects.get(wallet__account=whale)
    assert f"more than {data_api.MAX_PAGES} pages" in portfolio.last_error
    assert portfolio.fetched_at == before.fetched_at and len(portfolio.positions) == 120
    assert portfolio.attempted_at > portfolio.fetched_at
    assert Exposure.objects.filter(account=whale).count() == 120
    assert not exposure_is_current(
        fetched_at=portfolio.fetched_at,
        attempted_at=portfolio.attempted_at,
        last_error=portfolio.last_error,
        tier_rank=whale.tier.rank,
        now=timezone.now(),
    )
    assert {holding.current for holding in account_holdings(whale)} == {False}


def test_the_account_page_of_a_three_thousand_position_wallet_lists_the_largest(
    polymarket, whale, client, specialist, django_assert_max_num_queries
):
    serve_positions(polymarket, synthetic_rows(3000), page_size=500)
    assert refresh(whale)
    client.force_login(specialist)
    with django_assert_max_num_queries(40):
        page = client.get(f"/accounts/{whale.pk}/").content.decode()
    panel = page[page.index('id="exposure-heading"') :]
    panel = panel[: panel.index("</section>")]
    assert "The 50 largest by value; 2950 smaller positions not listed" in panel
    assert panel.count("<li>") == 50
    assert "Synthetic market 1500" in panel  # the largest (3,000 shares of No)
    assert "Synthetic market 1<" not in panel and "Synthetic market 1\n" not in panel  # the smallest
