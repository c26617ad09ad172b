"""Polymarket's public Data API: a wallet's open positions, its portfolio value and its activity.

Routes used, and why:
- `GET /v2/positions` and `GET /v2/value` (snake_case, `{data, pagination}` envelope, cursor paging)
  for the wallet panel.
- `GET /activity` (v1: a bare camelCase array, `limit`/`offset` paging) for dispute evidence. v1,
  because the evidence must include DEPOSIT and WITHDRAWAL rows, which the service drops unless
  `excludeDepositsWithdrawals=false` is passed; the v1 route is the one documented with that switch.
  Its `offset` stops at 10,000 rows, so a longer history comes back marked truncated. Activity rows
  in the v2 shape (`condition_id`, `usdc_size`, `transaction_hash`, …) parse as well, so a move to
  `/v2/activity` changes the route, not the parser.

Speaks HTTP only and returns small frozen dataclasses; callers map them into their own rows.
Every failure surfaces as a `PolymarketError` subclass carrying a message a person can read.
"""

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import requests
from django.conf import settings

from integrations.polymarket.demo import DemoDataAdapter
from integrations.polymarket.errors import (  # noqa: F401 - re-exported for callers
    PolymarketBadResponse,
    PolymarketError,
    PolymarketNotFound,
    PolymarketUnavailable,
)
from integrations.polymarket.http import get_json
from integrations.ratelimit import SharedRateBudget

logger = logging.getLogger(__name__)

USER_AGENT = "advanced-support-portal/1.0 (+Polymarket Data API v2 client)"
# A cursor that never ends (or loops) must not hold a worker forever; 50 pages is far beyond any
# wallet the support program follows. Past it, `positions()` fails rather than return a part.
MAX_PAGES = 50
WINDOW_SECONDS = 10.0  # Polymarket's rate limits are counted per 10 seconds
# v1 `/activity` paging: at most 500 rows a page, and `offset` stops at 10,000 rows, so pages are
# asked for only while offset + limit stays within it (at most 10,000 rows in all).
ACTIVITY_PAGE_SIZE = 500
ACTIVITY_MAX_OFFSET = 10_000
# The most rows one `activity()` call keeps (after the market filter); more is reported truncated.
ACTIVITY_MAX_ROWS = 10_000
TX_HASH_LENGTH = 66  # 0x + 64 hex


@dataclass(frozen=True)
class Position:
    """One open position. Token ids are uint256 printed in decimal: kept as strings, never numbers."""

    token_id: str
    condition_id: str
    title: str
    slug: str
    outcome: str
    size: Decimal
    avg_price: Decimal | None
    current_price: Decimal | None
    current_value: Decimal | None
    total_pnl: Decimal | None
    percent_pnl: Decimal | None
    redeemable: bool
    negative_risk: bool
    end_date: dt.date | None
    event_slug: str

    def as_json(self) -> dict:
        """A JSON-safe dict: decimals as strings, so storing them loses no precision."""
        stored = asdict(self)
        for key, value in stored.items():
            if isinstance(value, Decimal):
                stored[key] = str(value)
            elif isinstance(value, dt.date):
                stored[key] = value.isoformat()
        return stored

    @classmethod
    def from_json(cls, stored: dict) -> "Position":
        """The inverse of `as_json`."""
        return cls(
            token_id=str(stored.get("token_id", "")),
            condition_id=stored.get("condition_id", ""),
            title=stored.get("title", ""),
            slug=stored.get("slug", ""),
            outcome=stored.get("outcome", ""),
            size=_decimal(stored.get("size")) or Decimal("0"),
            avg_price=_decimal(stored.get("avg_price")),
            current_price=_decimal(stored.get("current_price")),
            current_value=_decimal(stored.get("current_value")),
            total_pnl=_decimal(stored.get("total_pnl")),
            percent_pnl=_decimal(stored.get("percent_pnl")),
            redeemable=bool(stored.get("redeemable")),
            negative_risk=bool(stored.get("negative_risk")),
            end_date=_date(stored.get("end_date")),
            event_slug=stored.get("event_slug") or "",
        )


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise PolymarketBadResponse(f"Polymarket sent {str(value)[:40]!r} where a number belongs.")
    return number


def _date(value: Any) -> dt.date | None:
    # Polymarket sends "2028-11-07" and, on some markets, a full ISO timestamp.
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def parse_position(row: Any) -> Position:
    """One v2 `/v2/positions` row (snake_case) into a Position."""
    if not isinstance(row, dict) or row.get("token_id") in (None, "") or "current_size" not in row:
        raise PolymarketBadResponse("Polymarket sent a position without a token id or size.")
    return Position(
        token_id=str(row["token_id"]),
        condition_id=row.get("condition_id") or "",
        title=row.get("title") or "",
        slug=row.get("slug") or "",
        outcome=row.get("outcome") or "",
        size=_decimal(row["current_size"]) or Decimal("0"),
        avg_price=_decimal(row.get("avg_price")),
        current_price=_decimal(row.get("current_price")),
        current_value=_decimal(row.get("current_value")),
        total_pnl=_decimal(row.get("total_pnl")),
        percent_pnl=_decimal(row.get("percent_pnl")),
        redeemable=bool(row.get("redeemable")),
        negative_risk=bool(row.get("negative_risk")),
        end_date=_date(row.get("end_date")),
        event_slug=row.get("event_slug") or "",
    )


@dataclass(frozen=True)
class ActivityRow:
    """One row of a wallet's activity: a trade, deposit, withdrawal, redemption, reward, …

    Deposits, withdrawals and rewards belong to no market: their `condition_id` is "".
    """

    at: dt.datetime  # aware, UTC
    kind: str  # TRADE, DEPOSIT, WITHDRAWAL, REDEEM, SPLIT, MERGE, REWARD, CONVERSION, …
    condition_id: str
    title: str
    outcome: str
    side: str  # BUY, SELL or ""
    size: Decimal | None
    usdc_size: Decimal | None
    price: Decimal | None
    transaction_hash: str  # lowercase, "" when Polymarket sent none


def _field(row: dict, camel: str, snake: str) -> Any:
    """A field of a v1 (camelCase) or v2 (snake_case) row, whichever the row carries."""
    value = row.get(camel)
    return row.get(snake) if value is None else value


def _text(row: dict, camel: str, snake: str | None = None) -> str:
    value = _field(row, camel, snake or camel)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PolymarketBadResponse(
            f"Polymarket sent an activity {camel} that is not text: {str(value)[:40]!r}."
        )
    return value.strip()


def _epoch_seconds(value: Any) -> dt.datetime:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise PolymarketBadResponse("Polymarket sent an activity row without a timestamp.")
    try:
        seconds = int(Decimal(str(value)))
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (InvalidOperation, ValueError, OverflowError, OSError):
        raise PolymarketBadResponse(
            f"Polymarket sent {str(value)[:40]!r} where an activity timestamp belongs."
        ) from None


def parse_activity(row: Any) -> ActivityRow:
    """One activity row, in the v1 `/activity` shape (camelCase: `conditionId`, `usdcSize`,
    `transactionHash`) or the v2 shape (snake_case: `condition_id`, `usdc_size`,
    `transaction_hash`), into an ActivityRow. Timestamps are epoch seconds."""
    if not isinstance(row, dict):
        raise PolymarketBadResponse("Polymarket sent an activity row in an unexpected shape.")
    kind = row.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise PolymarketBadResponse("Polymarket sent an activity row without a type.")
    if row.get("timestamp") in (None, ""):
        raise PolymarketBadResponse("Polymarket sent an activity row without a timestamp.")
    transaction_hash = _text(row, "transactionHash", "transaction_hash").lower()
    if transaction_hash and (
        len(transaction_hash) != TX_HASH_LENGTH
        or not transaction_hash.startswith("0x")
        or any(c not in "0123456789abcdef" for c in transaction_hash[2:])
    ):
        raise PolymarketBadResponse(
            f"Polymarket sent {transaction_hash[:70]!r} where a transaction hash belongs."
        )
    return ActivityRow(
        at=_epoch_seconds(row["timestamp"]),
        kind=kind.strip().upper(),
        condition_id=_text(row, "conditionId", "condition_id").lower(),
        title=_text(row, "title"),
        outcome=_text(row, "outcome"),
        side=_text(row, "side").upper(),
        size=_decimal(row.get("size")),
        usdc_size=_decimal(_field(row, "usdcSize", "usdc_size")),
        price=_decimal(row.get("price")),
        transaction_hash=transaction_hash,
    )


def _epoch(moment: dt.datetime, name: str) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime.")
    return int(moment.timestamp())


def _unwrap(body: Any) -> tuple[Any, str | None]:
    """(payload, next cursor) of a v2 envelope `{"data": ..., "pagination": {...}}`, or of a bare payload."""
    if isinstance(body, dict) and "data" in body:
        pagination = body.get("pagination") or {}
        cursor = pagination.get("next_cursor") if isinstance(pagination, dict) else None
        return body["data"], (str(cursor) if cursor not in (None, "") else None)
    return body, None


class DataApiClient:
    """`with DataApiClient() as client: client.positions(address)`; one session, closed on exit."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout_seconds: float | None = None,
        shared_budget: bool = False,
    ):
        """`shared_budget`: take each call from the request budget every worker shares
        (POLYMARKET_DATA_RATE_LIMIT per 10 s, kept in the database), waiting when it is spent."""
        self.base_url = (base_url or settings.POLYMARKET_DATA_URL).rstrip("/")
        self.budget = (
            SharedRateBudget(
                "polymarket-data", limit=settings.POLYMARKET_DATA_RATE_LIMIT, window_seconds=WINDOW_SECONDS
            )
            if shared_budget
            else None
        )
        timeout = timeout_seconds or settings.POLYMARKET_TIMEOUT_SECONDS
        self.timeout = (timeout, timeout)  # connect, read
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if settings.POLYMARKET_DEMO_FIXTURES:
            self.session.mount(f"{self.base_url}/", DemoDataAdapter())

    def __enter__(self) -> "DataApiClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.close()

    def positions(self, user: str) -> list[Position]:
        """Every open position of a profile (proxy) wallet, following the cursor to the end.
        Raises PolymarketBadResponse when the cursor goes on past MAX_PAGES (never a partial list)."""
        params = {"user": user, "status": "OPEN"}
        found: list[Position] = []
        for _ in range(MAX_PAGES):
            data, cursor = _unwrap(self._get("/v2/positions", params))
            if data is None:
                data = []
            if not isinstance(data, list):
                raise PolymarketBadResponse("Polymarket sent positions in an unexpected shape.")
            found.extend(parse_position(row) for row in data)
            if cursor is None:
                return found
            params = {**params, "cursor": cursor}
        # Part of a wallet's positions is not its positions: callers would store them as current
        # and the rest would look sold. Fail instead, so the last complete positions stay (stale).
        logger.warning("Positions of %s go on past %s pages; none are kept.", user, MAX_PAGES)
        raise PolymarketBadResponse(
            f"Polymarket sent more than {MAX_PAGES} pages of positions for this wallet "
            f"({len(found)} positions so far); none were kept."
        )

    def value(self, user: str) -> Decimal | None:
        """The wallet's portfolio value in USD, or None when Polymarket has no record of it."""
        data, _ = _unwrap(self._get("/v2/value", {"user": user}))
        if isinstance(data, list):  # the v1 route answers a one-row list; accept it the same way
            data = data[0] if data else None
        if data is None:
            return None
        if not isinstance(data, dict) or "value" not in data:
            raise PolymarketBadResponse("Polymarket sent the portfolio value in an unexpected shape.")
        return _decimal(data["value"])

    def activity(
        self,
        user: str,
        *,
        start: dt.datetime,
        end: dt.datetime,
        market: str | None = None,
        max_rows: int = ACTIVITY_MAX_ROWS,
    ) -> tuple[list[ActivityRow], bool]:
        """A profile (proxy) wallet's activity from `start` to `end` (aware datetimes), oldest
        first, deposits and withdrawals included: `(rows, truncated)`.

        `market` (a condition id) keeps that market's rows plus every row that belongs to no
        market (deposits, withdrawals, rewards, …). It is filtered here, not sent as `market=`,
        because the service would then leave out the deposits and withdrawals.

        `truncated` is True when more rows existed than we fetched: the v1 route stops at offset
        10,000, and one call keeps at most `max_rows` rows.
        """
        start_s, end_s = _epoch(start, "start"), _epoch(end, "end")
        wanted = market.strip().lower() if market else None
        base = {
            "user": user,
            "start": str(start_s),
            "end": str(end_s),
            "excludeDepositsWithdrawals": "false",
            "sortBy": "TIMESTAMP",
            "sortDirection": "ASC",
            "limit": str(ACTIVITY_PAGE_SIZE),
        }
        found: list[ActivityRow] = []
        offset = 0
        while True:
            data, _ = _unwrap(self._get("/activity", {**base, "offset": str(offset)}))
            if data is None:
                data = []
            if not isinstance(data, list):
                raise PolymarketBadResponse("Polymarket sent the wallet activity in an unexpected shape.")
            for raw in data:
                row = parse_activity(raw)
                if not start_s <= row.at.timestamp() <= end_s:
                    continue  # the service filters by time already; never keep a row outside the window
                if wanted is not None and row.condition_id not in ("", wanted):
                    continue
                if len(found) >= max_rows:
                    logger.warning(
                        "Activity of %s stopped at %s rows; the rest are not shown.", user, max_rows
                    )
                    return found, True
                found.append(row)
            if len(data) < ACTIVITY_PAGE_SIZE:
                return found, False
            offset += ACTIVITY_PAGE_SIZE
            if offset + ACTIVITY_PAGE_SIZE > ACTIVITY_MAX_OFFSET:
                logger.warning(
                    "Activity of %s stopped at the Data API's offset limit (%s); the rest are not shown.",
                    user,
                    ACTIVITY_MAX_OFFSET,
                )
                return found, True

    def _get(self, path: str, params: dict) -> Any:
        if self.budget is not None:
            self.budget.acquire()
        # Decimals straight from the text, so 0.7545 never becomes 0.75449999…
        return get_json(
            self.session,
            f"{self.base_url}{path}",
            params=params,
            timeout=self.timeout,
            parse_json=partial(json.loads, parse_float=Decimal),
        )
