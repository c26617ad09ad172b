"""The cached copy of each wallet's positions and value from Polymarket's Data API."""

import logging

from django.conf import settings
from django.utils import timezone

from accounts.models import Account, Wallet
from accounts.services.exposure import ERROR_LENGTH, FOUR_PLACES, portfolio_store
from integrations.polymarket.data_api import DataApiClient, PolymarketError

logger = logging.getLogger(__name__)


def wallet_portfolios_refresh(*, account_id: int) -> dict:
    """Fetch the open positions and portfolio value of every wallet of the account and store them.

    Per wallet, on success: positions (and the wallet's exposure rows), value, `fetched_at` and
    `attempted_at` are replaced, the error is cleared and `synthetic` records whether the demo
    fixtures answered. On a Polymarket
    error the data fetched before is kept; only `attempted_at` and `last_error` (a message for
    people) change. Never raises for API trouble, and a missing account is simply nothing to do.
    Idempotent: safe to retry or to run twice at once. Returns counts of wallets by outcome.
    When it ends, however it ends, the account page may queue a refresh again
    (`Account.wallets_refresh_requested_at` is cleared).
    """
    try:
        return _refresh(account_id)
    finally:
        Account.objects.filter(pk=account_id).update(wallets_refresh_requested_at=None)


def _refresh(account_id: int) -> dict:
    wallets = list(Wallet.objects.filter(account_id=account_id).order_by("pk"))
    refreshed = failed = 0
    # No transaction is held open across the HTTP calls; each wallet's row is written on its own.
    with DataApiClient(shared_budget=True) as client:
        for wallet in wallets:
            try:
                positions = client.positions(wallet.address)
                value = client.value(wallet.address)
            except PolymarketError as exc:
                logger.info("Wallet %s not refreshed: %s", wallet.address, exc.message)
                portfolio_store(wallet, attempted_at=timezone.now(), last_error=exc.message[:ERROR_LENGTH])
                failed += 1
                continue
            now = timezone.now()
            portfolio_store(
                wallet,
                positions=positions,
                fetched_at=now,
                attempted_at=now,
                value_usd=value.quantize(FOUR_PLACES) if value is not None else None,
                last_error="",
                synthetic=settings.POLYMARKET_DEMO_FIXTURES,
            )
            refreshed += 1
    return {"account_id": account_id, "wallets": len(wallets), "refreshed": refreshed, "failed": failed}
