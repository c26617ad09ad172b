"""The one HTTP GET both Polymarket clients share: timeouts and status codes become typed errors
with messages a person can act on."""

import json
from collections.abc import Callable
from typing import Any

import requests

from integrations.polymarket.errors import PolymarketBadResponse, PolymarketNotFound, PolymarketUnavailable


def get_json(
    session: requests.Session,
    url: str,
    *,
    params: dict | None,
    timeout: tuple[float, float],
    not_found: str | None = None,
    parse_json: Callable[[str], Any] = json.loads,
) -> Any:
    """GET `url` and decode its JSON. Raises PolymarketUnavailable for connection trouble,
    timeouts, 5xx and 429; PolymarketNotFound for a 404 when `not_found` names what was sought;
    PolymarketBadResponse for any other 4xx or a body that is not JSON."""
    try:
        response = session.get(url, params=params, timeout=timeout)
    except requests.Timeout:
        raise PolymarketUnavailable(f"Polymarket did not answer within {timeout[1]:g} seconds.") from None
    except requests.RequestException as exc:
        raise PolymarketUnavailable(f"Polymarket could not be reached ({type(exc).__name__}).") from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise PolymarketUnavailable(f"Polymarket is unavailable or rate-limiting us (HTTP {status}).")
    if status == 404 and not_found is not None:
        raise PolymarketNotFound(f"Polymarket has no market {not_found}.")
    if status >= 400:
        raise PolymarketBadResponse(f"Polymarket refused the request (HTTP {status}).")
    try:
        return parse_json(response.text)
    except ValueError:
        raise PolymarketBadResponse("Polymarket sent a reply that is not JSON.") from None
