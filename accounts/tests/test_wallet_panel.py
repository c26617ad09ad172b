"""The account page's wallet panel: refreshing from Polymarket (recorded payloads, never the
network), reading the cache in a fixed number of queries, and what a specialist sees."""

import datetime as dt
from decimal import Decimal

import pytest
import responses
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import WalletPortfolio
from accounts.services.wallet_data import wallet_portfolios_refresh
from accounts.tests.factories import (
    DATA_API,
    OTHER_WALLET,
    WHALE_WALLET,
    make_account,
    recorded_data_api_page,
)
from accounts.wallet_panel import REQUEST_EXPIRES_AFTER, wallet_panel, wallet_panel_request_refresh

BASE = DATA_API
WHALE = WHALE_WALLET
WHALE_CHECKSUMMED = "0x7C3Db723F1D4d8cB9C550095203b686cB11E5C6B"
OTHER = OTHER_WALLET
NO_TOKEN = "94476829201604408463453426454480212459887267917122244941405244686637914508323"

pytestmark = pytest.mark.django_db


def polymarket_goes_down(mock: responses.RequestsMock) -> None:
    mock.replace(responses.GET, f"{BASE}/v2/positions", status=503, body="maintenance")
    mock.replace(responses.GET, f"{BASE}/v2/value", status=503, body="maintenance")


def age_portfolios(account, *, fetched: dt.timedelta | None, attempted: dt.timedelta | None) -> None:
    now = timezone.now()
    WalletPortfolio.objects.filter(wallet__account=account).update(
        fetched_at=now - fetched if fetched is not None else None,
        attempted_at=now - attempted if attempted is not None else None,
    )


def _raise(*args, **kwargs):
    raise RuntimeError("the database went away")


def render(account) -> str:
    return render_to_string("accounts/_wallet_panel.html", {"panel": wallet_panel(account)})


class TestRefresh:
    def test_refresh_stores_positions_and_value(self, polymarket):
        account = make_account(wallets=[WHALE])

        result = wallet_portfolios_refresh(account_id=account.pk)

        assert result == {"account_id": account.pk, "wallets": 1, "refreshed": 1, "failed": 0}
        portfolio = WalletPortfolio.objects.get(wallet__address=WHALE)
        assert portfolio.value_usd == Decimal("684953.8942")
        assert portfolio.positions[0]["token_id"] == NO_TOKEN
        assert portfolio.positions[0]["current_price"] == "0.7545"
        assert portfolio.fetched_at is not None and portfolio.attempted_at == portfolio.fetched_at
        assert portfolio.last_error == ""
        assert portfolio.synthetic is False

    def test_refresh_twice_keeps_one_row_per_wallet(self, polymarket):
        account = make_account(wallets=[WHALE, OTHER])
        wallet_portfolios_refresh(account_id=account.pk)
        wallet_portfolios_refresh(account_id=account.pk)
        assert WalletPortfolio.objects.filter(wallet__account=account).count() == 2

    def test_a_failure_keeps_the_old_data_and_records_the_error(self, polymarket):
        account = make_account(wallets=[WHALE])
        wallet_portfolios_refresh(account_id=account.pk)
        before = WalletPortfolio.objects.get(wallet__address=WHALE)
        polymarket_goes_down(polymarket)

        result = wallet_portfolios_refresh(account_id=account.pk)

        after = WalletPortfolio.objects.get(wallet__address=WHALE)
        assert result["failed"] == 1 and result["refreshed"] == 0
        assert (after.fetched_at, after.value_usd, after.positions) == (
            before.fetched_at,
            before.value_usd,
            before.positions,
        )
        assert after.attempted_at > before.attempted_at
        assert "HTTP 503" in after.last_error

    def test_a_success_after_a_failure_clears_the_error(self, polymarket):
        account = make_account(wallets=[WHALE])
        polymarket_goes_down(polymarket)
        wallet_portfolios_refresh(account_id=account.pk)
        polymarket.replace(
            responses.GET, f"{BASE}/v2/positions", body=recorded_data_api_page("data_api_v2_positions.json")
        )
        polymarket.replace(
            responses.GET, f"{BASE}/v2/value", body=recorded_data_api_page("data_api_v2_value.json")
        )

        wallet_portfolios_refresh(account_id=account.pk)

        assert WalletPortfolio.objects.get(wallet__address=WHALE).last_error == ""

    def test_demo_mode_marks_the_data_synthetic_and_stays_offline(self, polymarket, settings):
        settings.POLYMARKET_DEMO_FIXTURES = True
        account = make_account(wallets=[OTHER])

        wallet_portfolios_refresh(account_id=account.pk)

        assert len(polymarket.calls) == 0
        portfolio = WalletPortfolio.objects.get(wallet__address=OTHER)
        assert portfolio.synthetic is True
        assert portfolio.positions and portfolio.value_usd > 0


class TestPanel:
    def test_panel_sums_the_wallets_and_reports_the_oldest_fetch(self, polymarket):
        account = make_account(wallets=[WHALE, OTHER])
        wallet_portfolios_refresh(account_id=account.pk)
        WalletPortfolio.objects.filter(wallet__address=OTHER).update(
            fetched_at=timezone.now() - dt.timedelta(minutes=20)
        )

        panel = wallet_panel(account)

        assert panel.total_value_usd == 2 * Decimal("684953.8942")
        assert panel.fetched_at == WalletPortfolio.objects.get(wallet__address=OTHER).fetched_at
        assert panel.stale is True
        assert panel.error == "" and panel.synthetic is False
        assert panel.wallets[0].positions[0].token_id == NO_TOKEN

    @pytest.mark.parametrize("wallet_count", [1, 4])
    def test_panel_and_partial_run_one_query_whatever_the_wallets(
        self, polymarket, django_assert_max_num_queries, wallet_count
    ):
        account = make_account(wallets=[f"0x{n:040x}" for n in range(1, wallet_count + 1)])
        wallet_portfolios_refresh(account_id=account.pk)

        with django_assert_max_num_queries(1):
            panel = wallet_panel(account)
            html = render_to_string("accounts/_wallet_panel.html", {"panel": panel})

        assert html.count("<table") == wallet_count


class TestRequestRefresh:
    def test_missing_data_queues_a_refresh_that_fetches_it(
        self, polymarket, django_capture_on_commit_callbacks
    ):
        account = make_account(wallets=[WHALE])

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert wallet_panel_request_refresh(account) is True

        assert len(callbacks) == 1
        assert WalletPortfolio.objects.get(wallet__address=WHALE).value_usd == Decimal("684953.8942")

    def test_stale_data_not_recently_attempted_is_refreshed(
        self, polymarket, django_capture_on_commit_callbacks
    ):
        account = make_account(wallets=[WHALE])
        wallet_portfolios_refresh(account_id=account.pk)
        age_portfolios(account, fetched=dt.timedelta(minutes=20), attempted=dt.timedelta(minutes=20))

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert wallet_panel_request_refresh(account) is True

        assert len(callbacks) == 1
        refreshed = WalletPortfolio.objects.get(wallet__address=WHALE)
        assert refreshed.fetched_at > timezone.now() - dt.timedelta(minutes=1)

    @pytest.mark.parametrize(
        ("fetched", "attempted"),
        [
            (dt.timedelta(minutes=5), dt.timedelta(minutes=5)),  # fresh
            (dt.timedelta(minutes=20), dt.timedelta(minutes=1)),  # stale, but just tried
            (None, dt.timedelta(seconds=30)),  # never fetched, but just tried
        ],
    )
    def test_fresh_or_just_attempted_data_queues_nothing(
        self, polymarket, django_capture_on_commit_callbacks, fetched, attempted
    ):
        account = make_account(wallets=[WHALE])
        wallet_portfolios_refresh(account_id=account.pk)
        age_portfolios(account, fetched=fetched, attempted=attempted)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert wallet_panel_request_refresh(account) is False

        assert callbacks == []

    def test_a_queued_refresh_blocks_the_next_until_it_has_run(
        self, polymarket, django_capture_on_commit_callbacks
    ):
        account = make_account(wallets=[WHALE])

        with django_capture_on_commit_callbacks() as callbacks:  # queued, not yet run
            assert wallet_panel_request_refresh(account) is True
            assert wallet_panel_request_refresh(account) is False
        assert len(callbacks) == 1

        callbacks[0]()  # the worker runs it: data fresh, the claim cleared
        account.refresh_from_db()
        assert account.wallets_refresh_requested_at is None
        age_portfolios(account, fetched=dt.timedelta(minutes=20), attempted=dt.timedelta(minutes=20))
        with django_capture_on_commit_callbacks() as callbacks:
            assert wallet_panel_request_refresh(account) is True
        assert len(callbacks) == 1

    def test_a_refresh_whose_task_was_lost_is_queued_again_after_a_while(
        self, django_capture_on_commit_callbacks
    ):
        account = make_account(wallets=[WHALE])
        with django_capture_on_commit_callbacks():
            assert wallet_panel_request_refresh(account) is True
        type(account).objects.filter(pk=account.pk).update(
            wallets_refresh_requested_at=timezone.now() - REQUEST_EXPIRES_AFTER - dt.timedelta(seconds=1)
        )
        with django_capture_on_commit_callbacks() as callbacks:
            assert wallet_panel_request_refresh(account) is True
        assert len(callbacks) == 1

    def test_a_refresh_that_fails_still_clears_its_claim(self, polymarket, monkeypatch):
        account = make_account(wallets=[WHALE])
        type(account).objects.filter(pk=account.pk).update(wallets_refresh_requested_at=timezone.now())
        monkeypatch.setattr(WalletPortfolio.objects, "create", _raise)
        with pytest.raises(RuntimeError):
            wallet_portfolios_refresh(account_id=account.pk)
        account.refresh_from_db()
        assert account.wallets_refresh_requested_at is None

    def test_an_account_without_wallets_never_queues(self, django_capture_on_commit_callbacks):
        account = make_account()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert wallet_panel_request_refresh(account) is False
        assert callbacks == []


class TestPartial:
    def test_shows_the_checksummed_address_copy_button_and_positions(self, polymarket):
        account = make_account(wallets=[WHALE])
        wallet_portfolios_refresh(account_id=account.pk)

        html = render(account)

        assert f"<code>{WHALE_CHECKSUMMED}</code>" in html
        assert f'data-copy="{WHALE_CHECKSUMMED}"' in html
        assert (
            f'href="https://polygonscan.com/address/{WHALE_CHECKSUMMED}" rel="noopener" target="_blank"'
            in html
        )
        assert "Will JD Vance win the 2028 US Presidential Election?" in html
        assert "$684,953.89" in html
        assert "fetched 0\xa0minutes ago" in html
        assert "Synthetic demo data" not in html
        assert "js/copy.js" in html

    def test_demo_data_carries_a_visible_synthetic_badge(self, polymarket, settings):
        settings.POLYMARKET_DEMO_FIXTURES = True
        account = make_account(wallets=[OTHER])
        wallet_portfolios_refresh(account_id=account.pk)

        assert '<span class="badge badge--warn">Synthetic demo data</span>' in render(account)

    def test_a_failed_refresh_is_explained_next_to_the_old_data(self, polymarket):
        account = make_account(wallets=[WHALE])
        wallet_portfolios_refresh(account_id=account.pk)
        polymarket_goes_down(polymarket)
        wallet_portfolios_refresh(account_id=account.pk)

        html = render(account)

        assert "Refreshing from Polymarket failed at" in html
        assert "Polymarket is unavailable or rate-limiting us (HTTP 503)." in html
        assert "Showing data from" in html
        assert "Will JD Vance win the 2028 US Presidential Election?" in html

    def test_a_failure_before_any_data_says_there_is_none_yet(self, polymarket):
        account = make_account(wallets=[WHALE])
        polymarket_goes_down(polymarket)
        wallet_portfolios_refresh(account_id=account.pk)

        html = render(account)

        assert "No data yet." in html
        assert "Fetching positions" not in html

    def test_never_fetched_says_fetching(self):
        account = make_account(wallets=[WHALE])
        assert "Fetching positions…" in render(account)

    def test_no_wallets_shows_the_empty_state(self):
        html = render(make_account())
        assert "No wallets on this account yet." in html
        assert "<table" not in html
