"""The resolution radar's exposure on the pages: the market page lists the portfolio's holders,
an account page the markets it holds with their resolution state; stale positions say so; the
queries stay the same however many holders there are."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import WalletPortfolio
from accounts.tests.factories import make_account, make_exposure
from disputes.models import Market
from disputes.services import market_create_manual

pytestmark = pytest.mark.django_db
CONDITION = "0x" + "ab" * 32


@pytest.fixture
def market(specialist):
    market = market_create_manual(
        by=specialist, question="Will it rain?", rules_text="Rules.", outcomes=["Yes", "No"]
    )
    Market.objects.filter(pk=market.pk).update(condition_id=CONDITION, uma_status="disputed")
    return Market.objects.get(pk=market.pk)


def hold(
    account, outcome: str, size: str, value: str, *, fetched_ago=dt.timedelta(minutes=1), error: str = ""
):
    fetched = timezone.now() - fetched_ago
    WalletPortfolio.objects.update_or_create(
        wallet=account.wallets.order_by("pk").first(),
        defaults={"fetched_at": fetched, "attempted_at": timezone.now(), "last_error": error},
    )
    return make_exposure(
        account, CONDITION, outcome=outcome, size=size, value=value, fetched_at=fetched, with_portfolio=False
    )


def wallet(n: int) -> str:
    return f"0x{n:040x}"


def test_the_market_page_lists_the_holders_and_the_account_page_links_back(
    client, specialist, leader, market
):
    whale = make_account(display_name="Whale Co", owner=specialist, wallets=[wallet(1)])
    hold(whale, "No", "1200000", "840000.5")
    client.force_login(leader)
    page = client.get(reverse("disputes:market_detail", args=[market.pk])).content.decode()
    holders = page[page.index("Portfolio holders") :]
    assert "Whale Co" in holders and "840,000.5" in holders and ">No<" in holders
    assert "Stale" not in holders

    account_page = client.get(reverse("accounts:detail", args=[whale.pk])).content.decode()
    panel = account_page[account_page.index("Markets held") :]
    assert "Disputed" in panel
    link = re.search(r'href="([^"]+)">Will it rain\?</a>', panel)
    assert link and client.get(link[1]).status_code == 200


def test_positions_whose_refresh_failed_are_marked_stale(client, specialist, market):
    account = make_account(display_name="Late Ltd", wallets=[wallet(2)])
    hold(account, "Yes", "10", "5", fetched_ago=dt.timedelta(hours=3), error="Polymarket is unavailable")
    client.force_login(specialist)
    page = client.get(reverse("disputes:market_detail", args=[market.pk])).content.decode()
    assert "Stale" in page[page.index("Portfolio holders") :]
    account_page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Stale" in account_page[account_page.index("Markets held") :]


def test_product_sees_neither_holders_nor_markets_held(client, product_person, market):
    client.force_login(product_person)
    assert client.get(reverse("disputes:market_detail", args=[market.pk])).status_code == 403


def test_an_account_that_holds_nothing_has_no_markets_panel(client, specialist):
    account = make_account(wallets=[wallet(3)])
    client.force_login(specialist)
    assert "Markets held" not in client.get(reverse("accounts:detail", args=[account.pk])).content.decode()


def test_the_market_page_takes_the_same_queries_for_3_or_30_holders(client, specialist, market):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(specialist)
    url = reverse("disputes:market_detail", args=[market.pk])
    counts = []
    for n in range(30):
        hold(make_account(wallets=[wallet(100 + n)]), "Yes", "1", "1")
        if n + 1 in (3, 30):
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                page = client.get(url).content.decode()
            counts.append(len(queries))
            assert page.count('href="/accounts/') >= n + 1
    assert counts[0] == counts[1], counts
