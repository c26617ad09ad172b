"""Offline answers for the Data API when POLYMARKET_DEMO_FIXTURES is on (`make run`, demos).

A `requests` transport adapter, so the real client code (URLs, envelope, cursor paging, parsing)
runs unchanged. Answers come from the synthetic file in `demo_fixtures/`, varied per wallet by a
hash of its address: the same wallet always shows the same positions, different wallets differ.

`/activity` (v1, camelCase rows) answers from a synthetic history made up per wallet: a deposit,
then every day or few a trade on one of the demo markets, now and then another deposit or a
withdrawal, from 1 January 2026 (before the 28 April 2026 USDC.e → pUSD cutover) up to now. Any
window slices the same history, so one wallet's snapshots agree with each other.
"""

import datetime as dt
import hashlib
import json
import time
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

FIXTURES = Path(__file__).parent / "demo_fixtures"
SYNTHETIC_MARKER = "Synthetic demo data, not from Polymarket"
# Small pages, so the demo exercises the client's cursor paging as production does.
PAGE_SIZE = 4
FOUR_PLACES = Decimal("0.0001")


@cache
def _fixture_rows() -> tuple[dict, ...]:
    document = json.loads((FIXTURES / "positions.json").read_text(), parse_float=Decimal)
    if document.get("_synthetic") != SYNTHETIC_MARKER:
        raise ValueError("Demo fixtures must carry the synthetic-data marker.")
    return tuple(document["data"])


def demo_positions(address: str) -> list[dict]:
    """The synthetic v2 position rows of one wallet: a subset of the fixture, sizes scaled."""
    seed = int(hashlib.sha256(address.lower().encode()).hexdigest(), 16)
    rows = _fixture_rows()
    if seed % 7 == 0:  # some wallets hold nothing, so the demo shows that state too
        return []
    count = 2 + seed % (len(rows) - 1)
    start = (seed >> 16) % len(rows)
    scale = Decimal(25 + (seed >> 32) % 376) / 100  # 0.25× to 4×
    chosen = [rows[(start + i) % len(rows)] for i in range(count)]
    return [_scaled(row, scale, address.lower()) for row in chosen]


def _scaled(row: dict, scale: Decimal, address: str) -> dict:
    size = (row["current_size"] * scale).quantize(FOUR_PLACES)
    cost = (size * row["avg_price"]).quantize(FOUR_PLACES)
    value = (size * row["current_price"]).quantize(FOUR_PLACES)
    return {
        **row,
        "proxy_wallet": address,
        "current_size": size,
        "entry_cost_usdc": cost,
        "current_value": value,
        "unrealized_pnl": value - cost,
        "total_pnl": value - cost,
    }


# The synthetic activity history starts here, before the CLOB V2 cutover, so both collaterals show.
DEMO_HISTORY_START = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
HOUR = 3600
# A page never answers more than this many rows, whatever `limit` asks (the real route's cap).
ACTIVITY_LIMIT_CAP = 500
TWO_PLACES = Decimal("0.01")


def _draw(address: str, n: int) -> int:
    """A large number fixed by the wallet and the step: the demo's deterministic dice."""
    return int(hashlib.sha256(f"{address}:activity:{n}".encode()).hexdigest(), 16)


def demo_activity(address: str, *, until: int) -> list[dict]:
    """The synthetic v1 `/activity` rows (camelCase) of one wallet up to epoch second `until`,
    oldest first. Trades are on the markets the wallet's demo positions hold (any demo market for
    a wallet that holds none); deposits and withdrawals belong to no market."""
    address = address.lower()
    markets = demo_positions(address) or list(_fixture_rows())
    until = min(until, int(time.time()))
    rows: list[dict] = []
    at = DEMO_HISTORY_START + _draw(address, 0) % (120 * HOUR)
    n = 0
    while at <= until:
        draw = _draw(address, n)
        roll = draw % 20
        if n == 0 or roll == 0:
            rows.append(_money_row(address, at, "DEPOSIT", Decimal(250 + (draw >> 8) % 9750), draw))
        elif roll == 1:
            rows.append(_money_row(address, at, "WITHDRAWAL", Decimal(50 + (draw >> 8) % 1950), draw))
        else:
            rows.append(_trade_row(address, at, markets[(draw >> 8) % len(markets)], draw))
        n += 1
        at += 20 * HOUR + (draw >> 40) % (76 * HOUR)  # the next step, one to four days later
    return rows


def _base_row(address: str, at: int, kind: str, draw: int) -> dict:
    return {
        "_synthetic": SYNTHETIC_MARKER,
        "proxyWallet": address,
        "timestamp": at,
        "type": kind,
        "transactionHash": "0x" + hashlib.sha256(f"demo-tx:{address}:{at}:{draw}".encode()).hexdigest(),
        "name": "",
        "pseudonym": "",
    }


def _money_row(address: str, at: int, kind: str, amount: Decimal, draw: int) -> dict:
    return {
        **_base_row(address, at, kind, draw),
        "conditionId": "",
        "size": amount,
        "usdcSize": amount,
        "price": Decimal("0"),
        "asset": "",
        "side": "",
        "outcomeIndex": 999,
        "title": "",
        "slug": "",
        "outcome": "",
    }


def _trade_row(address: str, at: int, position: dict, draw: int) -> dict:
    # Around the position's average price, a few cents either way, kept inside (0, 1).
    cents = Decimal((draw >> 60) % 9) - 4
    price = min(max(position["avg_price"] + cents / 100, Decimal("0.01")), Decimal("0.99"))
    size = Decimal(10 + (draw >> 80) % 2990)
    return {
        **_base_row(address, at, "TRADE", draw),
        "conditionId": position["condition_id"],
        "size": size,
        "usdcSize": (size * price).quantize(TWO_PLACES),
        "price": price,
        "asset": position["token_id"],
        "side": "SELL" if (draw >> 100) % 4 == 0 else "BUY",
        "outcomeIndex": position.get("outcome_index", 0),
        "title": position["title"],
        "slug": position["slug"],
        "eventSlug": position.get("event_slug", ""),
        "outcome": position["outcome"],
    }


def _int_param(query: dict, name: str, default: int) -> int:
    raw = (query.get(name) or [""])[0]
    return int(raw) if raw.isdigit() else default


def demo_activity_page(query: dict) -> list[dict]:
    """What v1 `/activity` would answer: the window, the type and market filters, the order,
    and `excludeDepositsWithdrawals` defaulting to true as the real service does."""
    user = (query.get("user") or [""])[0]
    start = _int_param(query, "start", 0)
    end = _int_param(query, "end", int(time.time()))
    rows = [row for row in demo_activity(user, until=end) if row["timestamp"] >= start]
    if (query.get("excludeDepositsWithdrawals") or ["true"])[0].lower() != "false":
        rows = [row for row in rows if row["type"] not in ("DEPOSIT", "WITHDRAWAL")]
    if query.get("type"):
        kinds = {kind.upper() for value in query["type"] for kind in value.split(",")}
        rows = [row for row in rows if row["type"] in kinds]
    if query.get("market"):
        markets = {m.lower() for value in query["market"] for m in value.split(",")}
        rows = [row for row in rows if row["conditionId"] in markets]
    if (query.get("sortDirection") or ["DESC"])[0].upper() != "ASC":
        rows.reverse()
    offset = _int_param(query, "offset", 0)
    limit = min(_int_param(query, "limit", 100), ACTIVITY_LIMIT_CAP)
    return rows[offset : offset + limit]


class DemoDataAdapter(BaseAdapter):
    """Answers `/v2/positions`, `/v2/value` and v1 `/activity`; anything else is a 404, as the
    real API would."""

    def send(
        self, request: PreparedRequest, stream=False, timeout=None, verify=True, cert=None, proxies=None
    ):
        url = urlsplit(request.url)
        query = parse_qs(url.query)
        user = (query.get("user") or [""])[0]
        if url.path.endswith("/v2/positions"):
            rows = demo_positions(user)
            cursor = (query.get("cursor") or ["0"])[0]
            offset = int(cursor) if cursor.isdigit() else 0
            next_offset = offset + PAGE_SIZE
            body = {
                "_synthetic": SYNTHETIC_MARKER,
                "data": rows[offset:next_offset],
                "pagination": {"next_cursor": str(next_offset) if next_offset < len(rows) else None},
            }
            return self._response(request, 200, body)
        if url.path.endswith("/v2/value"):
            total = sum((row["current_value"] for row in demo_positions(user)), Decimal("0"))
            body = {"_synthetic": SYNTHETIC_MARKER, "data": {"proxy_wallet": user.lower(), "value": total}}
            return self._response(request, 200, body)
        if url.path.endswith("/activity") and not url.path.endswith("/v2/activity"):
            return self._response(request, 200, demo_activity_page(query))
        return self._response(request, 404, {"error": "not found"})

    def close(self) -> None:
        pass

    @staticmethod
    def _response(request: PreparedRequest, status: int, body: dict | list) -> Response:
        response = Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else "Not Found"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        # Demo amounts have at most 15 significant digits, so float's shortest repr writes them exactly.
        response._content = json.dumps(body, default=float).encode()
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response
