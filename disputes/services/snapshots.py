"""Wallet evidence for dispute cases: a frozen copy of what Polymarket's Data API reported about a
wallet's activity (trades, deposits, withdrawals, redemptions, …) over a time window.

The fetch happens before any database transaction is opened, so a slow Polymarket never holds a
lock; a failed fetch writes nothing. Each stored row records the collateral of its time: USDC.e
before the CLOB V2 cutover of 2026-04-28, pUSD from then on.
"""

import datetime as dt
from contextlib import nullcontext
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.wallets import normalise_address
from disputes.models import CaseEvent, DisputeCase, WalletActivityRow, WalletActivitySnapshot
from disputes.services.cases.workflow import case_event_add
from integrations.polymarket.data_api import ActivityRow, DataApiClient, PolymarketError
from portal.models import User

CLOB_V2_CUTOVER = dt.datetime(2026, 4, 28, tzinfo=dt.UTC)
SOURCE = "Polymarket Data API v1 /activity (deposits and withdrawals included)"
POLYGONSCAN_TX_URL = "https://polygonscan.com/tx/{}"
POLYGONSCAN_ADDRESS_URL = "https://polygonscan.com/address/{}"
SNAPSHOT_CATEGORIES = (DisputeCase.Category.ORDER_EXECUTION, DisputeCase.Category.PLATFORM_MECHANICS)
MAX_WINDOW = dt.timedelta(days=366)
FUTURE_SLACK = dt.timedelta(minutes=1)
LOOKBACK = dt.timedelta(days=30)  # before filing, when the market's start (or the market) is unknown
AFTER_CLOSE = dt.timedelta(days=7)  # redemptions and withdrawals follow a market's close


def collateral_at(when: dt.datetime) -> str:
    """The collateral token a row of that time moved: "USDC.e" before the cutover, "pUSD" from it."""
    return "USDC.e" if when < CLOB_V2_CUTOVER else "pUSD"


def explorer_url(tx_hash: str) -> str:
    """The transaction on Polygonscan (Polymarket settles on Polygon PoS); "" without a hash."""
    return POLYGONSCAN_TX_URL.format(tx_hash.lower()) if tx_hash else ""


def address_url(address: str) -> str:
    """The wallet on Polygonscan; "" without an address."""
    return POLYGONSCAN_ADDRESS_URL.format(address.lower()) if address else ""


def default_window(case: DisputeCase, *, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The window a snapshot of this case starts from: the market's life (from its start, or
    30 days before filing when that is unknown, to 7 days after it closed or ended), or the 30 days
    before filing up to now for a case without a market. Never ends after now, and never spans
    more than a snapshot may (the latest 366 days are kept); when the start would not come before
    the end (a case filed long after its market closed), the 30 days before the end."""
    now = now or timezone.now()
    filed = case.created_at or now
    market = case.market
    if market is None:
        start, end = filed - LOOKBACK, now
    else:
        start = market.start_date or filed - LOOKBACK
        finished = market.closed_at or market.end_date
        end = min(finished + AFTER_CLOSE, now) if finished else now
    if start >= end:
        start = end - LOOKBACK
    return max(start, end - MAX_WINDOW), end


def _window_errors(start, end, now: dt.datetime) -> dict:
    errors = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            errors[name] = "Choose a date and time."
        elif not isinstance(value, dt.datetime) or timezone.is_naive(value):
            errors[name] = "Give a date and time with its time zone."
    if errors:
        return errors
    if start >= end:
        errors["end"] = "The window must end after it starts."
    elif end - start > MAX_WINDOW:
        errors["end"] = "A snapshot covers at most 366 days; narrow the window."
    elif end > now + FUTURE_SLACK:
        errors["end"] = "The window can’t end in the future."
    return errors


def _fit(value: Decimal | None, places: int, max_digits: int) -> Decimal | None:
    """The value rounded to the column's decimal places; refused when it would not fit."""
    if value is None:
        return None
    try:
        fitted = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        fitted = None
    if fitted is None or len(fitted.as_tuple().digits) > max_digits:
        raise ValidationError(f"Polymarket sent an amount too large to store ({str(value)[:40]}).")
    return fitted


def _row(row: ActivityRow) -> WalletActivityRow:
    """The row to store, its snapshot and case set once they exist."""
    return WalletActivityRow(
        at=row.at,
        kind=row.kind[:20],
        condition_id=row.condition_id[:66],
        title=row.title[:500],
        outcome=row.outcome[:100],
        side=row.side[:4],
        size=_fit(row.size, 8, 30),
        usdc_size=_fit(row.usdc_size, 8, 30),
        price=_fit(row.price, 10, 20),
        transaction_hash=row.transaction_hash[:66],
        collateral=collateral_at(row.at),
    )


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def wallet_snapshot_take(
    *,
    case: DisputeCase,
    by: User,
    wallet_address: str,
    start: dt.datetime,
    end: dt.datetime,
    client: DataApiClient | None = None,
) -> WalletActivitySnapshot:
    """Fetch a wallet's activity from the Data API for the case's window (deposits and withdrawals
    included; limited to the case's market, plus money movements, when the case has one) and store
    it as a snapshot with its rows, an evidence event and a new case revision.

    Refused with a ValidationError, writing nothing: a case that is not about order execution or
    platform mechanics, an address that is not 0x + 40 hex, a window that is empty, longer than
    366 days or ends in the future, and any Polymarket failure (its message, fit to show)."""
    if case.category not in SNAPSHOT_CATEGORIES:
        raise ValidationError(
            "Wallet activity snapshots are for order-execution and platform-mechanics cases."
        )
    now = timezone.now()
    errors = _window_errors(start, end, now)
    try:
        address = normalise_address(wallet_address)
    except ValidationError as error:
        errors["wallet_address"] = error.messages
    if errors:
        raise ValidationError(errors)
    condition_id = (case.market.condition_id or "") if case.market_id else ""

    # The network call stays outside any transaction: nothing is locked while Polymarket answers.
    try:
        with DataApiClient() if client is None else nullcontext(client) as api:
            rows, truncated = api.activity(address, start=start, end=end, market=condition_id or None)
    except PolymarketError as error:
        raise ValidationError(str(error)) from None
    fetched_at = timezone.now()
    prepared = [_row(row) for row in rows]  # refuses amounts that would not fit, before writing

    with transaction.atomic():
        locked = DisputeCase.objects.select_for_update(of=("self",)).get(pk=case.pk)
        snapshot = WalletActivitySnapshot.objects.create(
            case=locked,
            wallet_address=address,
            condition_id=condition_id,
            window_start=start,
            window_end=end,
            source=SOURCE,
            truncated=truncated,
            row_count=len(rows),
            fetched_by=by,
            fetched_at=fetched_at,
        )
        for row in prepared:
            row.snapshot, row.case = snapshot, locked
        WalletActivityRow.objects.bulk_create(prepared, batch_size=1000)
        summary = (
            f"Wallet activity snapshot: {len(rows)} row{'' if len(rows) == 1 else 's'} for {_short(address)}"
        )
        if truncated:
            summary += " (truncated: more activity exists than the API pages to)"
        case_event_add(
            locked,
            CaseEvent.Kind.EVIDENCE,
            by,
            summary,
            after={
                "snapshot": snapshot.pk,
                "wallet_address": address,
                "condition_id": condition_id,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "row_count": len(rows),
                "truncated": truncated,
            },
        )
        locked.revision += 1
        locked.save(update_fields=["revision", "updated_at"])
    case.revision, case.updated_at = locked.revision, locked.updated_at
    return snapshot


def snapshot_rows(snapshot: WalletActivitySnapshot) -> QuerySet[WalletActivityRow]:
    """The snapshot's rows, oldest first."""
    return snapshot.rows.order_by("at", "pk")
