"""Polymarket's Gamma API: market and event metadata, including each market's rules text.

Speaks HTTP only and returns small frozen dataclasses; callers map them into their own rows.
Failures are the same `PolymarketError` family as the Data API client's. Gamma sends several
lists as JSON-encoded strings and more than one timestamp format; `parse_market` is the one
place that knows this, and it names the field when a value is not what Gamma normally sends.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
from django.conf import settings

from integrations.polymarket.demo import SYNTHETIC_MARKER
from integrations.polymarket.errors import PolymarketBadResponse, PolymarketNotFound, PolymarketUnavailable  # noqa: F401
from integrations.polymarket.http import get_json

USER_AGENT = "advanced-support-portal/1.0 (+Polymarket Gamma API client)"
DEMO_FIXTURES = Path(__file__).parent / "demo_fixtures" / "gamma"
FIFTY_FIFTY = "50-50"
HALF = Decimal("0.5")

POLYMARKET_HOSTS = {"polymarket.com", "www.polymarket.com"}
CONDITION_ID = re.compile(r"0x[0-9a-f]{64}", re.IGNORECASE)
GAMMA_ID = re.compile(r"[0-9]{1,18}")
SLUG = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*", re.IGNORECASE)


@dataclass(frozen=True)
class MarketReference:
    """What a person pasted, classified: `kind` is event_slug, market_slug, gamma_id or condition_id."""

    kind: str
    value: str


def parse_market_reference(text: str) -> MarketReference:
    """A Polymarket event or market URL, a slug, a Gamma id or a condition id; ValueError otherwise."""
    cleaned = (text or "").strip()
    if CONDITION_ID.fullmatch(cleaned):
        return MarketReference("condition_id", cleaned.lower())
    if GAMMA_ID.fullmatch(cleaned):
        return MarketReference("gamma_id", cleaned)
    # Polymarket slugs are several words joined by hyphens; a lone word is more likely a typo.
    if "-" in cleaned and SLUG.fullmatch(cleaned):
        return MarketReference("market_slug", cleaned)
    reference = _reference_from_url(cleaned)
    if reference is None:
        shown = cleaned[:100] or "(nothing was entered)"
        raise ValueError(f"That is not a Polymarket market or event link: {shown}")
    return reference


def _reference_from_url(text: str) -> MarketReference | None:
    if "://" not in text:
        text = f"https://{text}"  # people paste "polymarket.com/event/…" without the scheme
    try:
        url = urlsplit(text)
        host = (url.hostname or "").lower()
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or host not in POLYMARKET_HOSTS:
        return None
    parts = [unquote(part) for part in url.path.split("/") if part]
    if not all(SLUG.fullmatch(part) for part in parts):
        return None
    match parts:
        case ["event", slug]:
            return MarketReference("event_slug", slug)
        case ["event", _, slug] | ["market", slug]:
            return MarketReference("market_slug", slug)
    return None


@dataclass(frozen=True)
class Outcome:
    """One side of a market. Token ids are uint256 printed in decimal: kept as strings."""

    name: str
    price: Decimal | None
    token_id: str


@dataclass(frozen=True)
class GammaMarket:
    gamma_id: str
    condition_id: str
    question_id: str
    slug: str
    question: str
    description: str  # the resolution rules a dispute is judged by
    resolution_source: str
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    closed_time: dt.datetime | None
    active: bool
    closed: bool
    archived: bool
    neg_risk: bool
    outcomes: tuple[Outcome, ...]
    uma_status: str
    uma_history: tuple[str, ...]
    volume: Decimal | None
    order_min_size: Decimal | None
    tick_size: Decimal | None
    fees_enabled: bool
    fee_type: str
    event_gamma_id: str
    event_slug: str
    event_title: str
    group_item_title: str
    automatically_resolved: bool
    # Kept out of comparisons and the hash: a dict is unhashable and the fields above say it all.
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def resolved(self) -> bool:
        """UMA says resolved, or the market closed at final prices (one outcome at 1, or 50-50).
        An open market at 0.5/0.5 is merely new, so the prices count only once it is closed."""
        return self.uma_status == "resolved" or (self.closed and self._final_outcome() != "")

    @property
    def resolved_outcome(self) -> str:
        """The winning outcome's name, "50-50" when every outcome pays half, else ""."""
        return self._final_outcome() if self.resolved else ""

    def _final_outcome(self) -> str:
        prices = [outcome.price for outcome in self.outcomes]
        if not prices or None in prices:
            return ""
        winners = [outcome.name for outcome in self.outcomes if outcome.price == 1]
        if len(winners) == 1:
            return winners[0]
        return FIFTY_FIFTY if all(price == HALF for price in prices) else ""


@dataclass(frozen=True)
class GammaEvent:
    gamma_id: str
    slug: str
    title: str
    neg_risk: bool
    markets: tuple[GammaMarket, ...]
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def _unexpected(key: str, value: Any) -> PolymarketBadResponse:
    return PolymarketBadResponse(f"Polymarket sent an unexpected {key}: {str(value)[:40]!r}.")


def _text(raw: dict, key: str) -> str:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value or ""
    raise _unexpected(key, value)


def _id(raw: dict, key: str) -> str:
    # Gamma ids are numbers printed as strings ("1689303"); accept a bare integer all the same.
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(raw, key)


def _flag(raw: dict, key: str) -> bool:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise _unexpected(key, value)


def _decimal(value: Any, key: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _unexpected(key, value)
    try:
        # Via str(): Gamma writes the shortest float text, so this recovers its exact digits.
        number = Decimal(str(value))
    except InvalidOperation:
        raise _unexpected(key, value) from None
    if not number.is_finite():
        raise _unexpected(key, value)
    return number


def _when(raw: dict, key: str) -> dt.datetime | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _unexpected(key, value)
    try:
        # Handles "…T06:40:00Z", closedTime's "2026-03-24 06:40:23+00" and date-only "2026-03-24".
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _unexpected(key, value) from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _encoded_list(raw: dict, key: str) -> list:
    """Gamma sends these lists as JSON text ("[\\"Yes\\", \\"No\\"]"); a real list is accepted too."""
    value = raw.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _unexpected(key, value) from None
    if not isinstance(value, list):
        raise _unexpected(key, value)
    return value


def _outcomes(raw: dict) -> tuple[Outcome, ...]:
    names = _encoded_list(raw, "outcomes")
    prices = [_decimal(price, "outcomePrices") for price in _encoded_list(raw, "outcomePrices")]
    token_ids = _encoded_list(raw, "clobTokenIds")
    if not all(isinstance(name, str) for name in names):
        raise _unexpected("outcomes", names)
    if not all((isinstance(t, str) and t.isdigit()) or type(t) is int for t in token_ids):
        raise _unexpected("clobTokenIds", token_ids)
    # Prices and token ids may be missing before a market is deployed, but never misaligned.
    for key, values in (("outcomePrices", prices), ("clobTokenIds", token_ids)):
        if values and len(values) != len(names):
            raise _unexpected(key, f"{len(values)} values for {len(names)} outcomes")
    return tuple(
        Outcome(
            name=name, price=prices[i] if prices else None, token_id=str(token_ids[i]) if token_ids else ""
        )
        for i, name in enumerate(names)
    )


def parse_market(raw: Any, *, event: dict | None = None) -> GammaMarket:
    """One Gamma market object. `event` is the event it was fetched through, if any; otherwise
    the market's own nested `events[0]`. Missing fields become ""/None/False; a field of the wrong
    type raises PolymarketBadResponse naming it."""
    if not isinstance(raw, dict):
        raise PolymarketBadResponse("Polymarket sent a market in an unexpected shape.")
    if event is None:
        nested = raw.get("events")
        if nested is not None and not (isinstance(nested, list) and all(isinstance(e, dict) for e in nested)):
            raise _unexpected("events", nested)
        event = nested[0] if nested else {}
    history = _encoded_list(raw, "umaResolutionStatuses")
    if not all(isinstance(status, str) for status in history):
        raise _unexpected("umaResolutionStatuses", history)
    volume_key = "volume" if raw.get("volume") not in (None, "") else "volumeNum"
    return GammaMarket(
        gamma_id=_id(raw, "id"),
        condition_id=_text(raw, "conditionId"),
        question_id=_text(raw, "questionID"),
        slug=_text(raw, "slug"),
        question=_text(raw, "question"),
        description=_text(raw, "description"),
        resolution_source=_text(raw, "resolutionSource"),
        start_date=_when(raw, "startDate"),
        end_date=_when(raw, "endDate") or _when(raw, "endDateIso"),
        created_at=_when(raw, "createdAt"),
        updated_at=_when(raw, "updatedAt"),
        closed_time=_when(raw, "closedTime"),
        active=_flag(raw, "active"),
        closed=_flag(raw, "closed"),
        archived=_flag(raw, "archived"),
        neg_risk=_flag(raw, "negRisk"),
        outcomes=_outcomes(raw),
        uma_status=_text(raw, "umaResolutionStatus"),
        uma_history=tuple(history),
        volume=_decimal(raw.get(volume_key), volume_key),
        order_min_size=_decimal(raw.get("orderMinSize"), "orderMinSize"),
        tick_size=_decimal(raw.get("orderPriceMinTickSize"), "orderPriceMinTickSize"),
        fees_enabled=_flag(raw, "feesEnabled"),
        fee_type=_text(raw, "feeType"),
        event_gamma_id=_id(event, "id"),
        event_slug=_text(event, "slug"),
        event_title=_text(event, "title"),
        group_item_title=_text(raw, "groupItemTitle"),
        automatically_resolved=_flag(raw, "automaticallyResolved"),
        raw=raw,
    )


def parse_event(raw: Any) -> GammaEvent:
    """One Gamma event object with its `markets` list; each market carries the event's id and title."""
    markets = raw.get("markets") if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or not isinstance(markets, list | None):
        raise PolymarketBadResponse("Polymarket sent an event in an unexpected shape.")
    return GammaEvent(
        gamma_id=_id(raw, "id"),
        slug=_text(raw, "slug"),
        title=_text(raw, "title"),
        neg_risk=_flag(raw, "negRisk"),
        markets=tuple(parse_market(market, event=raw) for market in markets or []),
        raw=raw,
    )


class GammaClient:
    """`with GammaClient() as client: client.lookup(reference)`; one session, closed on exit."""

    def __init__(self, *, base_url: str | None = None, timeout_seconds: float | None = None):
        self.base_url = (base_url or settings.POLYMARKET_GAMMA_URL).rstrip("/")
        timeout = timeout_seconds or settings.POLYMARKET_TIMEOUT_SECONDS
        self.timeout = (timeout, timeout)  # connect, read
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def __enter__(self) -> "GammaClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.close()

    def market_by_id(self, gamma_id: str | int) -> GammaMarket:
        path = f"/markets/{quote(str(gamma_id), safe='')}"
        return parse_market(self._get_object(path, missing=f"with the id {gamma_id}"))

    def market_by_slug(self, slug: str) -> GammaMarket:
        path = f"/markets/slug/{quote(slug, safe='')}"
        return parse_market(self._get_object(path, missing=f"with the slug {slug!r}"))

    def market_by_condition_id(self, condition_id: str) -> GammaMarket:
        # /markets hides closed markets unless asked, and disputes are mostly about closed ones.
        for closed in ("true", "false"):
            body = self._get("/markets", {"condition_ids": condition_id, "closed": closed})
            if not isinstance(body, list):
                raise PolymarketBadResponse("Polymarket sent the market list in an unexpected shape.")
            markets = [parse_market(row) for row in body]
            for market in markets:
                if market.condition_id.lower() == condition_id.lower():
                    return market
            if markets:  # the filter was ignored: showing some other market would be worse than none
                raise PolymarketBadResponse("Polymarket answered with markets other than the one asked for.")
        raise PolymarketNotFound(f"Polymarket has no market with the condition id {condition_id}.")

    def event_by_slug(self, slug: str) -> GammaEvent:
        path = f"/events/slug/{quote(slug, safe='')}"
        return parse_event(self._get_object(path, missing=f"or event with the slug {slug!r}"))

    def lookup(self, reference: MarketReference) -> list[GammaMarket]:
        """The market a reference names, or every market of the event it names. Never empty:
        raises PolymarketNotFound when Polymarket has nothing under that reference."""
        if reference.kind == "gamma_id":
            return [self.market_by_id(reference.value)]
        if reference.kind == "condition_id":
            return [self.market_by_condition_id(reference.value)]
        if reference.kind not in ("market_slug", "event_slug"):
            raise ValueError(f"Unknown market reference kind {reference.kind!r}.")
        # A bare slug may name either, and /event/<slug> of a one-market event may carry the market's
        # slug: try the kind the reference suggests, then the other.
        slug = reference.value
        attempts = [self._market_list, self._event_markets]
        if reference.kind == "event_slug":
            attempts.reverse()
        for attempt in attempts:
            try:
                return attempt(slug)
            except PolymarketNotFound:
                continue
        raise PolymarketNotFound(f"Polymarket has no market or event with the slug {slug!r}.")

    def _market_list(self, slug: str) -> list[GammaMarket]:
        return [self.market_by_slug(slug)]

    def _event_markets(self, slug: str) -> list[GammaMarket]:
        markets = list(self.event_by_slug(slug).markets)
        if not markets:
            raise PolymarketNotFound(f"Polymarket has no market in the event {slug!r}.")
        return markets

    def _get_object(self, path: str, *, missing: str) -> Any:
        body = self._get(path, missing=missing)
        if body is None:
            raise PolymarketNotFound(f"Polymarket has no market {missing}.")
        return body

    def _get(self, path: str, params: dict | None = None, *, missing: str = "at that address") -> Any:
        # Plain floats, so `raw` can be stored as JSON as is; NaN/Infinity are refused for the same reason.
        return get_json(
            self.session,
            f"{self.base_url}{path}",
            params=params,
            timeout=self.timeout,
            not_found=missing,
            parse_json=partial(json.loads, parse_constant=_refuse_constant),
        )


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


@cache
def _demo_events() -> tuple[dict, ...]:
    events = []
    for path in sorted(DEMO_FIXTURES.glob("*.json")):
        document = json.loads(path.read_text())
        if document.get("_synthetic") != SYNTHETIC_MARKER:
            raise ValueError(f"Demo fixture {path.name} must carry the synthetic-data marker.")
        events.append(document)
    return tuple(events)


def demo_markets() -> list[GammaMarket]:
    """The synthetic demo markets shipped in `demo_fixtures/gamma/`, parsed as Gamma's would be.
    Reads files only, never the network."""
    return [market for event in _demo_events() for market in parse_event(event).markets]
