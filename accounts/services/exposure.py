"""The portfolio's exposure to each market (the resolution radar's first half): every portfolio
wallet's open positions, fetched from the Data API within the request budget all workers share,
kept as `Exposure` rows — Tier 1 wallets every 15 minutes, the others every hour.

A wallet whose fetch fails keeps its last positions, marked by `WalletPortfolio.last_error` and an
`attempted_at` later than `fetched_at`: pages show them as of when they were fetched, never as
current (`exposure_is_current`)."""

import datetime as dt
import logging
import time
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Exposure, Wallet, WalletPortfolio
from integrations.polymarket.data_api import DataApiClient, PolymarketError, Position

logger = logging.getLogger(__name__)

TIER_ONE_EVERY = dt.timedelta(minutes=15)
OTHERS_EVERY = dt.timedelta(hours=1)
SIX_PLACES, FOUR_PLACES = Decimal("0.000001"), Decimal("0.0001")
ERROR_LENGTH = WalletPortfolio._meta.get_field("last_error").max_length
SWEEP_BATCH = 200
RECENTLY_TRIED = dt.timedelta(minutes=1)
GIVE_UP_AFTER_FAILURES = 3  # in a row: the Data API is down, and the rest would wait for nothing


def refresh_interval(tier_rank: int) -> dt.timedelta:
    return TIER_ONE_EVERY if tier_rank == 1 else OTHERS_EVERY


def exposure_is_current(*, fetched_at, attempted_at, last_error: str, tier_rank: int, now=None) -> bool:
    """Whether positions fetched at `fetched_at` may be shown as the wallet's current ones: the
    last attempt succeeded and they are younger than twice the tier's refresh interval."""
    now = now or timezone.now()
    if fetched_at is None or (last_error and attempted_at and attempted_at > fetched_at):
        return False
    return now - fetched_at <= 2 * refresh_interval(tier_rank)


def portfolio_is_current(portfolio, *, tier_rank: int, fetched_at=None, now=None) -> bool:
    """`exposure_is_current` for a wallet's portfolio row (None: never fetched), its positions
    taken as of `fetched_at` when given (an exposure row's own fetch time), else the portfolio's."""
    if portfolio is None:
        return False
    return exposure_is_current(
        fetched_at=fetched_at or portfolio.fetched_at,
        attempted_at=portfolio.attempted_at,
        last_error=portfolio.last_error,
        tier_rank=tier_rank,
        now=now,
    )


def exposures_replace(wallet: Wallet, positions: Iterable[Position], fetched_at: dt.datetime) -> int:
    """The wallet's exposure becomes exactly `positions` (one row per market outcome; the same
    outcome twice is added up). Call inside the transaction that stores the wallet's portfolio."""
    merged: dict[tuple[str, str], Exposure] = {}
    for position in positions:
        if not position.condition_id or position.size <= 0:
            continue
        key = (position.condition_id.lower(), position.outcome[:200])
        row = merged.get(key)
        if row is None:
            merged[key] = Exposure(
                account_id=wallet.account_id,
                wallet=wallet,
                condition_id=key[0],
                outcome=key[1],
                title=position.title[:500],
                size=position.size.quantize(SIX_PLACES),
                current_value=_four(position.current_value),
                fetched_at=fetched_at,
            )
        else:
            row.size += position.size.quantize(SIX_PLACES)
            row.current_value = _sum(row.current_value, _four(position.current_value))
    Exposure.objects.filter(wallet=wallet).delete()
    Exposure.objects.bulk_create(merged.values())
    return len(merged)


def _four(value: Decimal | None) -> Decimal | None:
    return value.quantize(FOUR_PLACES) if value is not None else None


def _sum(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def wallets_due(*, now: dt.datetime, limit: int) -> list[Wallet]:
    """Wallets whose exposure is older than their tier's interval (never fetched first, then the
    longest waiting), Tier 1 before the others."""
    never = Q(portfolio__isnull=True) | Q(portfolio__attempted_at__isnull=True)
    base = Wallet.objects.select_related("account__tier").order_by(
        F("portfolio__attempted_at").asc(nulls_first=True), "pk"
    )
    tier_one = base.filter(account__tier__rank=1).filter(
        never | Q(portfolio__attempted_at__lt=now - TIER_ONE_EVERY)
    )
    due = list(tier_one[:limit])
    if len(due) < limit:
        others = base.exclude(account__tier__rank=1).filter(
            never | Q(portfolio__attempted_at__lt=now - OTHERS_EVERY)
        )
        due += list(others[: limit - len(due)])
    return due


def exposure_sweep(*, budget_seconds: float = 240.0, client: DataApiClient | None = None) -> dict:
    """Fetch the positions of every wallet that is due, within the shared request budget, until
    none is due or the time budget is spent (the next run carries on). Idempotent; two sweeps at
    once fetch some wallets twice, harmlessly. Never raises for Data API trouble."""
    started = time.monotonic()
    counts = {"refreshed": 0, "failed": 0}
    own = client is None
    client = client or DataApiClient(shared_budget=True)
    try:
        while time.monotonic() - started < budget_seconds:
            wallets = wallets_due(now=timezone.now(), limit=SWEEP_BATCH)
            if not wallets:
                break
            for wallet in wallets:
                counts["refreshed" if wallet_positions_refresh(wallet, client) else "failed"] += 1
                if time.monotonic() - started >= budget_seconds:
                    break
    finally:
        if own:
            client.session.close()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def market_exposure_refresh(
    condition_id: str,
    *,
    only_stale: bool = False,
    budget_seconds: float = 60.0,
    client: DataApiClient | None = None,
) -> dict:
    """Fetch again the positions of every wallet that held the market at its last refresh (one
    call each, within the shared request budget): whether they still hold it, and how much. With
    `only_stale`, only the wallets whose positions are not current. A wallet tried in the last
    minute is left (a second click, or the radar's own refresh just before). Largest holders
    first, until `budget_seconds` is spent; the rest stay as they were, marked stale if they are."""
    started = time.monotonic()
    now = timezone.now()
    rows = (
        Exposure.objects.filter(condition_id=(condition_id or "").lower(), size__gt=0)
        .exclude(wallet__portfolio__attempted_at__gte=now - RECENTLY_TRIED)
        .select_related("wallet__account__tier", "wallet__portfolio")
        .defer("wallet__portfolio__positions")
        .order_by(F("current_value").desc(nulls_last=True), "pk")
    )
    wallets: dict[int, Wallet] = {}
    for row in rows:
        portfolio = getattr(row.wallet, "portfolio", None)
        current = portfolio_is_current(portfolio, tier_rank=row.wallet.account.tier.rank, now=now)
        if not (only_stale and current):
            wallets.setdefault(row.wallet_id, row.wallet)
    counts = {"wallets": len(wallets), "refreshed": 0, "failed": 0, "left": 0}
    own = client is None
    client = client or DataApiClient(shared_budget=True)
    failed_in_a_row = 0
    try:
        for position, wallet in enumerate(wallets.values()):
            if time.monotonic() - started >= budget_seconds or failed_in_a_row >= GIVE_UP_AFTER_FAILURES:
                counts["left"] = len(wallets) - position  # the API is down, or time is up
                break
            refreshed = wallet_positions_refresh(wallet, client)
            counts["refreshed" if refreshed else "failed"] += 1
            failed_in_a_row = 0 if refreshed else failed_in_a_row + 1
    finally:
        if own:
            client.session.close()
    return counts


def wallet_positions_refresh(wallet: Wallet, client: DataApiClient) -> bool:
    """Fetch one wallet's open positions and store them (its portfolio's positions and its
    exposure, together). On a Data API error the last positions stay, marked by the error."""
    try:
        positions = client.positions(wallet.address)
    except PolymarketError as exc:
        logger.info("Wallet %s not refreshed: %s", wallet.address, exc.message)
        portfolio_store(wallet, attempted_at=timezone.now(), last_error=exc.message[:ERROR_LENGTH])
        return False
    now = timezone.now()
    portfolio_store(
        wallet,
        positions=positions,
        fetched_at=now,
        attempted_at=now,
        last_error="",
        synthetic=settings.POLYMARKET_DEMO_FIXTURES,
    )
    return True


def portfolio_store(wallet: Wallet, *, positions: list[Position] | None = None, **fields) -> None:
    """Write the wallet's portfolio row and, with `positions`, its exposure, in one transaction."""
    if positions is not None:
        fields["positions"] = [position.as_json() for position in positions]
    try:
        with transaction.atomic():
            # An update, else a create: half the queries of update_or_create (no lock, no savepoint).
            if not WalletPortfolio.objects.filter(wallet=wallet).update(**fields):
                WalletPortfolio.objects.create(wallet=wallet, **fields)
            if positions is not None:
                exposures_replace(wallet, positions, fields["fetched_at"])
    except IntegrityError:
        # The wallet was removed while its data was being fetched: nothing left to keep it for.
        logger.info("Wallet %s was removed during its refresh.", wallet.address)
