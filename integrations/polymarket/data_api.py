"""Polymarket's public Data API, v2 routes: a wallet's open positions and its portfolio value.

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

logger = logging.getLogger(__name__)

USER_AGENT = "advanced-support-portal/1.0 (+Polymarket Data API v2 client)"
# A cursor that never ends (or loops) must not hold a worker forever; 50 pages is far beyond any
# wallet the support program follows.
MAX_PAGES = 50


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


def _unwrap(body: Any) -> tuple[Any, str | None]:
    """(payload, next cursor) of a v2 envelope `{"data": ..., "pagination": {...}}`, or of a bare payload."""
    if isinstance(body, dict) and "data" in body:
        pagination = body.get("pagination") or {}
        cursor = pagination.get("next_cursor") if isinstance(pagination, dict) else None
        return body["data"], (str(cursor) if cursor not in (None, "") else None)
    return body, None


class DataApiClient:
    """`with DataApiClient() as client: client.positions(address)`; one session, closed on exit."""

    def __init__(self, *, base_url: str | None = None, timeout_seconds: float | None = None):
        self.base_url = (base_url or settings.POLYMARKET_DATA_URL).rstrip("/")
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
        """Every open position of a profile (proxy) wallet, following the cursor to the end."""
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
        logger.warning("Positions of %s stopped after %s pages; the rest are not shown.", user, MAX_PAGES)
        return found

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

    def _get(self, path: str, params: dict) -> Any:
        # Decimals straight from the text, so 0.7545 never becomes 0.75449999…
        return get_json(
            self.session,
            f"{self.base_url}{path}",
            params=params,
            timeout=self.timeout,
            parse_json=partial(json.loads, parse_float=Decimal),
        )
