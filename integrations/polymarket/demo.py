"""Offline answers for the Data API when POLYMARKET_DEMO_FIXTURES is on (`make run`, demos).

A `requests` transport adapter, so the real client code (URLs, envelope, cursor paging, parsing)
runs unchanged. Answers come from the synthetic file in `demo_fixtures/`, varied per wallet by a
hash of its address: the same wallet always shows the same positions, different wallets differ.
"""

import hashlib
import json
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


class DemoDataAdapter(BaseAdapter):
    """Answers `/v2/positions` and `/v2/value`; anything else is a 404, as the real API would."""

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
        return self._response(request, 404, {"error": "not found"})

    def close(self) -> None:
        pass

    @staticmethod
    def _response(request: PreparedRequest, status: int, body: dict) -> Response:
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
