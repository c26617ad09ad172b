"""The resolution radar in the demo (`seed_demo`): demo wallets hold positions in demo markets
(the synthetic Data API fixtures, fetched through the real client and stored by the real service,
never from the network), one of those markets was disputed, so `specialist` has a heads-up on
My day and the market page lists the holders."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.demo import EXPOSURE_ACCOUNTS
from accounts.models import Account, Exposure, Wallet, WalletPortfolio
from disputes.models import HeadsUp, Market, MarketSignal
from portal.models import User
from portal.tests.seeding import seed

pytestmark = pytest.mark.django_db
SMALL = (
    "--accounts",
    "40",
    "--markets",
    "10",
    "--disputes",
    "0",
    "--feedback",
    "0",
    "--conversations",
    "0",
    "--history-months",
    "1",
    "--history-conversations",
    "0",
    "--history-escalations",
    "0",
)


@pytest.fixture
def seeded(settings):
    # Wherever the Data API is said to be, and with the demo fixtures off, the seed asks no one:
    # nothing listens on port 9.
    settings.POLYMARKET_DEMO_FIXTURES = False
    settings.POLYMARKET_DATA_URL = "http://127.0.0.1:9"
    return seed("--seed", "7", *SMALL)


def test_demo_wallets_hold_synthetic_positions_in_several_demo_markets(seeded):
    demo_markets = set(Market.objects.exclude(condition_id=None).values_list("condition_id", flat=True))
    held = Exposure.objects.filter(condition_id__in=demo_markets)
    assert held.values("condition_id").distinct().count() >= 3
    assert held.values("account").distinct().count() >= 10
    # Every wallet of the seeded accounts was fetched, and says its data is synthetic.
    assert WalletPortfolio.objects.count() == Wallet.objects.count() > 0
    assert not WalletPortfolio.objects.filter(synthetic=False).exists()
    assert not WalletPortfolio.objects.exclude(last_error="").exists()
    assert Exposure.objects.filter(wallet__portfolio__synthetic=True).count() == Exposure.objects.count()
    assert "resolution radar: positions of" in seeded and "synthetic" in seeded


def test_one_demo_market_is_disputed_and_specialist_has_a_heads_up(seeded):
    signal = MarketSignal.objects.get()
    market = signal.market
    assert signal.kind == MarketSignal.Kind.DISPUTED and signal.summary == "disputed"
    assert market.uma_status == "disputed" and market.uma_history[-2:] == ["proposed", "disputed"]
    assert not market.is_closed and "Synthetic demo market" in market.current_version.rules_text
    assert f"“{market.question}” disputed" in seeded
    specialist = User.objects.get(username="specialist")
    heads_up = HeadsUp.objects.get(signal=signal, owner=specialist)
    assert heads_up.told_at is None and timezone.now() - heads_up.created_at < dt.timedelta(minutes=5)
    holders = Exposure.objects.filter(condition_id=market.condition_id, account__owner=specialist)
    assert heads_up.accounts == holders.values("account").distinct().count() >= 1
    # Every owner of a holder is told, once; the mails are the worker's, after the seed commits.
    owners = set(
        Exposure.objects.filter(condition_id=market.condition_id).values_list("account__owner", flat=True)
    )
    assert set(signal.heads_ups.values_list("owner", flat=True)) == owners
    assert not HeadsUp.objects.exclude(mailed_at=None).exists()


def test_specialist_sees_the_heads_up_on_my_day_and_the_holders_on_the_market_page(seeded, client):
    specialist = User.objects.get(username="specialist")
    market = MarketSignal.objects.get().market
    client.force_login(specialist)
    page = html.unescape(client.get("/").content.decode())
    assert "which was just" in page and "disputed" in page
    assert "Synthetic demo data" in page  # the heads-up says its positions are the demo's
    assert market.question in page
    link = reverse("disputes:market_detail", args=[market.pk])
    assert f'href="{link}"' in page

    market_page = html.unescape(client.get(link).content.decode())
    held = Exposure.objects.filter(condition_id=market.condition_id)
    rows = held.values("account", "outcome").distinct().count()  # one per account and outcome
    assert re.search(r'Portfolio holders <span class="count">(\d+)</span>', market_page)[1] == str(rows)
    holders = Account.objects.filter(pk__in=held.values("account"))
    assert holders.count() >= 10
    for account in holders:
        assert account.display_name in market_page
    assert "Stale" not in market_page  # fetched just now
    assert market_page.count("Synthetic demo data") == rows  # each holder labelled


def test_a_large_book_fetches_the_first_accounts_and_leaves_the_rest_to_the_sweep(settings):
    settings.POLYMARKET_DEMO_FIXTURES = True
    seed("--seed", "7", *SMALL[:1], str(EXPOSURE_ACCOUNTS + 5), *SMALL[2:])
    fetched = Account.objects.filter(wallets__portfolio__isnull=False).distinct()
    assert fetched.count() == EXPOSURE_ACCOUNTS
    assert set(fetched.values_list("pk", flat=True)) == set(
        Account.objects.order_by("pk").values_list("pk", flat=True)[:EXPOSURE_ACCOUNTS]
    )


def test_no_markets_or_no_accounts_no_dispute():
    output = seed("--seed", "7", "--accounts", "10", "--markets", "0", *SMALL[4:])
    assert not MarketSignal.objects.exists() and not HeadsUp.objects.exists()
    assert Exposure.objects.exists()  # positions in markets the portal does not follow
    assert "no market disputed" in output
    seed("--seed", "7", "--accounts", "0", "--markets", "6", *SMALL[4:], "--force")
    assert not Exposure.objects.exists() and not MarketSignal.objects.exists()
