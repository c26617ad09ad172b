"""The account page's wallet panel: what was last fetched from Polymarket, and when to fetch again.

Reads only the cached `WalletPortfolio` rows (one query); Polymarket itself is called by the
background task, never while a page renders.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import Account, Wallet, WalletPortfolio
from integrations.polymarket.data_api import Position

STALE_AFTER = dt.timedelta(minutes=15)
# Polymarket being down must not turn every page view into another queued fetch.
RETRY_AFTER = dt.timedelta(minutes=2)
# A queued refresh blocks the next one until it has run; one whose task was lost (a worker
# killed, the broker flushed) stops blocking after this, well past the task timeout and retry.
REQUEST_EXPIRES_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class WalletHoldings:
    wallet: Wallet
    portfolio: WalletPortfolio | None
    positions: list[Position]

    @property
    def fetched_at(self) -> dt.datetime | None:
        return self.portfolio.fetched_at if self.portfolio else None

    @property
    def value_usd(self) -> Decimal | None:
        return self.portfolio.value_usd if self.portfolio else None


@dataclass(frozen=True)
class WalletPanel:
    wallets: list[WalletHoldings]
    total_value_usd: Decimal | None  # of the wallets with data; None when none has any
    fetched_at: dt.datetime | None  # the oldest data shown
    error: str  # the latest failed attempt's message, "" when the last attempts worked
    error_at: dt.datetime | None
    synthetic: bool
    stale: bool  # some wallet has no data, or data older than STALE_AFTER

    @property
    def has_data(self) -> bool:
        return self.fetched_at is not None


def wallet_panel(account: Account) -> WalletPanel:
    """The panel for one account, in one query whatever the number of wallets and positions."""
    wallets = Wallet.objects.filter(account=account).select_related("portfolio").order_by("created_at", "pk")
    holdings = [_holdings(wallet) for wallet in wallets]
    fetched = [h for h in holdings if h.fetched_at is not None]
    failures = [
        h.portfolio for h in holdings if h.portfolio and h.portfolio.last_error and h.portfolio.attempted_at
    ]
    latest_failure = max(failures, key=lambda portfolio: portfolio.attempted_at, default=None)
    values = [h.value_usd for h in fetched if h.value_usd is not None]
    stale_before = timezone.now() - STALE_AFTER
    return WalletPanel(
        wallets=holdings,
        total_value_usd=sum(values, Decimal("0")) if fetched else None,
        fetched_at=min((h.fetched_at for h in fetched), default=None),
        error=latest_failure.last_error if latest_failure else "",
        error_at=latest_failure.attempted_at if latest_failure else None,
        synthetic=any(h.portfolio.synthetic for h in fetched),
        stale=any(h.fetched_at is None or h.fetched_at < stale_before for h in holdings),
    )


def wallet_panel_request_refresh(account: Account, *, panel: WalletPanel | None = None) -> bool:
    """Queue a background refresh when some wallet's data is missing or older than 15 minutes and
    no attempt for it was made in the last 2 minutes. Runs after the current transaction commits.
    Pass the `panel` already built for the page to save its query. Returns whether it queued.

    At most one refresh per account waits in the queue: the page claims the account's
    `wallets_refresh_requested_at` with a conditional UPDATE (so of twenty views, or two web
    processes at once, only one queues), and the task clears it when it has run. A claim older
    than REQUEST_EXPIRES_AFTER is taken over, so a lost task does not stop refreshes for good."""
    if panel is None:
        panel = wallet_panel(account)
    now = timezone.now()

    def wants_fetch(holdings: WalletHoldings) -> bool:
        if holdings.fetched_at is not None and holdings.fetched_at >= now - STALE_AFTER:
            return False
        attempted_at = holdings.portfolio.attempted_at if holdings.portfolio else None
        return attempted_at is None or attempted_at < now - RETRY_AFTER

    if not any(wants_fetch(h) for h in panel.wallets):
        return False
    account_id = account.pk
    unclaimed = Q(wallets_refresh_requested_at__isnull=True) | Q(
        wallets_refresh_requested_at__lt=now - REQUEST_EXPIRES_AFTER
    )
    if not Account.objects.filter(unclaimed, pk=account_id).update(wallets_refresh_requested_at=now):
        return False  # a refresh is already waiting for a worker
    transaction.on_commit(lambda: async_task("accounts.tasks.wallet_portfolios_refresh", account_id))
    return True


def _holdings(wallet: Wallet) -> WalletHoldings:
    try:
        portfolio = wallet.portfolio
    except WalletPortfolio.DoesNotExist:
        portfolio = None
    positions = [Position.from_json(row) for row in portfolio.positions] if portfolio else []
    return WalletHoldings(wallet=wallet, portfolio=portfolio, positions=positions)
