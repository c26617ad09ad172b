"""The cached copy of each wallet's positions and value from Polymarket's Data API."""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, Wallet, WalletPortfolio
from integrations.polymarket.data_api import DataApiClient, PolymarketError

logger = logging.getLogger(__name__)
FOUR_PLACES = Decimal("0.0001")  # WalletPortfolio.value_usd keeps four decimals
ERROR_LENGTH = WalletPortfolio._meta.get_field("last_error").max_length


def wallet_portfolios_refresh(*, account_id: int) -> dict:
    """Fetch the open positions and portfolio value of every wallet of the account and store them.

    Per wallet, on success: positions, value, `fetched_at` and `attempted_at` are replaced, the
    error is cleared and `synthetic` records whether the demo fixtures answered. On a Polymarket
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
    with DataApiClient() as client:
        for wallet in wallets:
            try:
                positions = client.positions(wallet.address)
                value = client.value(wallet.address)
            except PolymarketError as exc:
                logger.info("Wallet %s not refreshed: %s", wallet.address, exc.message)
                _store(wallet, attempted_at=timezone.now(), last_error=exc.message[:ERROR_LENGTH])
                failed += 1
                continue
            now = timezone.now()
            _store(
                wallet,
                fetched_at=now,
                attempted_at=now,
                value_usd=value.quantize(FOUR_PLACES) if value is not None else None,
                positions=[position.as_json() for position in positions],
                last_error="",
                synthetic=settings.POLYMARKET_DEMO_FIXTURES,
            )
            refreshed += 1
    return {"account_id": account_id, "wallets": len(wallets), "refreshed": refreshed, "failed": failed}


def _store(wallet: Wallet, **fields) -> None:
    try:
        with transaction.atomic():
            WalletPortfolio.objects.update_or_create(wallet=wallet, defaults=fields)
    except IntegrityError:
        # The wallet was removed while its data was being fetched: nothing left to keep it for.
        logger.info("Wallet %s was removed during its refresh.", wallet.address)
