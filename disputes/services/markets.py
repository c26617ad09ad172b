"""Markets and their rule versions. A version is added only when what a dispute is judged by
(description, resolution source, clarifications) changed; every version keeps its text."""

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone

from accounts.models import Exposure, Venue
from disputes.models import Clarification, Market, MarketRuleVersion
from disputes.radar.detection import MarketState, changes_detect, clarification_signal
from integrations.polymarket.data_api import PolymarketError, PolymarketNotFound
from integrations.polymarket.gamma import GammaClient, GammaMarket, parse_market_reference
from portal.models import User
from portal.revisions import revision_add

REFRESH_CLOSED_WITHIN = dt.timedelta(days=14)
# Every market the demo seeds (its Gamma fixtures and the generated ones) has a slug starting so.
DEMO_SLUG_PREFIX = "demo-"
# Markets held by Tier 1 accounts are re-fetched once this old (the hourly run covers the rest).
TIER_ONE_MARKETS_EVERY = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ImportedMarket:
    market: Market
    created: bool
    new_version: bool


def content_hash(rules_text: str, resolution_source: str, clarifications: list[dict]) -> str:
    canonical = json.dumps(
        {"rules": rules_text.strip(), "source": resolution_source.strip(), "clarifications": clarifications},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clarifications_of(market: Market) -> list[dict]:
    return [
        {"text": c.text, "source_url": c.source_url, "published_at": c.published_at.isoformat()}
        for c in market.clarification_records.order_by("published_at", "pk")
    ]


def _add_version_if_changed(
    market: Market,
    *,
    rules_text: str,
    resolution_source: str,
    origin: str,
    effective_at: dt.datetime,
    by: User | None,
    source_url: str = "",
) -> MarketRuleVersion | None:
    clarifications = _clarifications_of(market)
    digest = content_hash(rules_text, resolution_source, clarifications)
    current = market.current_version
    if current is not None and current.content_hash == digest:
        return None
    version = revision_add(
        MarketRuleVersion,
        parent=market,
        rules_text=rules_text,
        resolution_source=resolution_source,
        clarifications=clarifications,
        origin=origin,
        source_url=source_url,
        effective_at=effective_at,
        content_hash=digest,
        recorded_at=timezone.now(),
        recorded_by=by,
    )
    market.save(update_fields=["current_version", "updated_at"])
    return version


GAMMA_FIELDS = {
    "condition_id": "condition_id",
    "question_id": "question_id",
    "slug": "slug",
    "question": "question",
    "event_title": "event_title",
    "event_slug": "event_slug",
    "event_gamma_id": "event_gamma_id",
    "group_item_title": "group_item_title",
    "start_date": "start_date",
    "end_date": "end_date",
    "closed_at": "closed_time",
    "is_closed": "closed",
    "is_resolved": "resolved",
    "resolved_outcome": "resolved_outcome",
    "neg_risk": "neg_risk",
    "uma_status": "uma_status",
    "volume_usd": "volume",
}


@transaction.atomic
def market_upsert_from_gamma(
    *, data: GammaMarket, by: User | None, fetched_at: dt.datetime | None = None
) -> ImportedMarket:
    """Create or update a market from Gamma, matched by Gamma id (then condition id). A new rule
    version is recorded only when the description or resolution source differs from the current
    version. Safe to repeat: importing the same payload twice changes nothing but the fetch time."""
    fetched_at = fetched_at or timezone.now()
    market = (
        Market.objects.select_for_update().filter(gamma_id=data.gamma_id).first()
        or (
            data.condition_id
            and Market.objects.select_for_update().filter(condition_id=data.condition_id).first()
        )
        or None
    )
    created = market is None
    if created:
        market = Market(source=Market.Source.GAMMA, venue=Venue.INTERNATIONAL, gamma_id=data.gamma_id)
    before = MarketState.of(market)
    for field, attribute in GAMMA_FIELDS.items():
        value = getattr(data, attribute)
        setattr(market, field, value if value is not None or field not in ("volume_usd",) else 0)
    market.gamma_id = data.gamma_id
    market.condition_id = data.condition_id or None
    market.question = (data.question or data.slug or data.gamma_id)[:500]
    market.outcomes = [
        {"name": o.name, "price": None if o.price is None else str(o.price), "token_id": o.token_id}
        for o in data.outcomes
    ]
    market.uma_history = list(data.uma_history)
    market.last_fetched_at = fetched_at
    market.gone_from_gamma_at = None  # Gamma knows it (again)
    market.save()
    version = _add_version_if_changed(
        market,
        rules_text=data.description or "",
        resolution_source=data.resolution_source or "",
        origin=MarketRuleVersion.Origin.GAMMA,
        effective_at=fetched_at if not created else (data.created_at or fetched_at),
        by=by,
        source_url=market.polymarket_url,
    )
    if not created:  # a first import is where the radar starts looking, not a change it saw
        changes_detect(market, before, now=fetched_at)
    return ImportedMarket(market=market, created=created, new_version=version is not None)


def markets_import(*, reference: str, by: User | None) -> list[ImportedMarket]:
    """Import the market (or every market of the event) a URL, slug, Gamma id or condition id
    names. Raises ValidationError with a plain message for a reference that is not Polymarket's,
    an unknown market, or an API that is unreachable or answers nonsense; nothing is written
    then. All markets of an event are written in one transaction."""
    try:
        parsed = parse_market_reference(reference)
    except ValueError as error:
        raise ValidationError(str(error)) from error
    try:
        with GammaClient() as client:
            found = client.lookup(parsed)
    except PolymarketError as error:
        raise ValidationError(error.message) from error
    if not found:
        raise ValidationError(f"Polymarket has no market for “{reference.strip()[:200]}”.")
    fetched_at = timezone.now()
    with transaction.atomic():
        return [market_upsert_from_gamma(data=item, by=by, fetched_at=fetched_at) for item in found]


def markets_refresh(*, now: dt.datetime | None = None, time_budget_seconds: float | None = None) -> dict:
    """Re-fetch open markets and those closed in the last two weeks (their resolution and UMA
    status still move). A market that fails is skipped and counted; the others are saved.

    The least recently fetched go first, and with a time budget the run stops once it is spent
    (the worker kills a task at Q_TIMEOUT_SECONDS): the next run carries on where this one
    stopped, so a large book is covered over a few runs instead of never.

    A market Gamma no longer knows (404) is asked again once a day only: by the run in the hour
    (UTC) of the day it went missing."""
    now = now or timezone.now()
    started = time.monotonic()
    due = (
        _refreshable(now)
        .annotate(gone_hour=ExtractHour("gone_from_gamma_at", tzinfo=dt.UTC))
        .filter(Q(gone_from_gamma_at__isnull=True) | Q(gone_hour=now.astimezone(dt.UTC).hour))
    )
    return _refresh_each(due, now=now, started=started, time_budget_seconds=time_budget_seconds)


def tier_one_markets_refresh(
    *, now: dt.datetime | None = None, time_budget_seconds: float | None = None
) -> dict:
    """Re-fetch, between the hourly runs, the markets in which a Tier 1 account's wallet holds a
    position (as of its last exposure refresh) once they were fetched over
    TIER_ONE_MARKETS_EVERY ago, stalest first, within the time budget like `markets_refresh`.
    Markets gone from Gamma are left to the hourly run's daily check."""
    now = now or timezone.now()
    started = time.monotonic()
    held = Exposure.objects.filter(size__gt=0, account__tier__rank=1).values("condition_id")
    due = (
        _refreshable(now)
        .filter(condition_id__in=held, gone_from_gamma_at__isnull=True)
        .filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - TIER_ONE_MARKETS_EVERY))
    )
    return _refresh_each(due, now=now, started=started, time_budget_seconds=time_budget_seconds)


def _refreshable(now: dt.datetime) -> QuerySet[Market]:
    """Markets from Gamma still worth re-fetching: open, or closed in the last two weeks. With the
    demo's fixtures on, not the demo's synthetic markets: Polymarket does not have them (it would
    mark them gone), and a real market with the same id would overwrite the demo's."""
    markets = Market.objects.filter(source=Market.Source.GAMMA).exclude(
        is_closed=True, closed_at__lt=now - REFRESH_CLOSED_WITHIN
    )
    if settings.POLYMARKET_DEMO_FIXTURES:
        markets = markets.exclude(slug__startswith=DEMO_SLUG_PREFIX)
    return markets


def _refresh_each(
    due: QuerySet[Market], *, now: dt.datetime, started: float, time_budget_seconds: float | None
) -> dict:
    """Fetch each market of `due` from Gamma, stalest first, until the time budget is spent.

    A failure (timeout, 5xx, 429, a payload that makes no sense) is counted and the market is
    left as it was. A 404 marks the market gone, once (its rules, positions and cases stay as
    they were, and no signal is raised); a later answer clears the mark. One query chooses the
    markets, then each costs its upsert's queries (6) and nothing more, however many hold it."""
    rows = list(
        due.order_by(F("last_fetched_at").asc(nulls_first=True), "pk").values_list(
            "pk", "gamma_id", "gone_from_gamma_at"
        )
    )
    outcome = {"refreshed": 0, "new_versions": 0, "failed": 0, "left_for_next_run": 0}
    with GammaClient() as client:
        for position, (pk, gamma_id, gone_at) in enumerate(rows):
            if time_budget_seconds is not None and time.monotonic() - started > time_budget_seconds:
                outcome["left_for_next_run"] = len(rows) - position
                break
            try:
                data = client.market_by_id(gamma_id)
            except PolymarketNotFound:
                if gone_at is None:
                    Market.objects.filter(pk=pk, gone_from_gamma_at__isnull=True).update(
                        gone_from_gamma_at=now
                    )
                # Only when some market is gone, so a run's outcome keeps its usual keys otherwise.
                outcome["gone"] = outcome.get("gone", 0) + 1
                continue
            except PolymarketError:
                outcome["failed"] += 1
                continue
            imported = market_upsert_from_gamma(data=data, by=None, fetched_at=now)
            outcome["refreshed"] += 1
            outcome["new_versions"] += int(imported.new_version)
    return outcome


@transaction.atomic
def market_create_manual(
    *,
    by: User,
    question: str,
    rules_text: str,
    resolution_source: str = "",
    outcomes: list[str],
    end_date: dt.datetime | None = None,
    venue: str = Venue.US,
    slug: str = "",
) -> Market:
    """A market entered by hand (US venue markets have no Gamma entry), with its first version."""
    errors = {}
    if not question.strip():
        errors["question"] = "Write the market's question."
    if not rules_text.strip():
        errors["rules_text"] = "Paste the market's rules: a dispute is judged by them."
    names = [o.strip() for o in outcomes if o.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        errors["outcomes"] = "Give at least two different outcomes, one per line."
    if errors:
        raise ValidationError(errors)
    market = Market.objects.create(
        source=Market.Source.MANUAL,
        venue=venue,
        question=question.strip(),
        slug=slug.strip(),
        end_date=end_date,
        outcomes=[{"name": n, "price": None, "token_id": ""} for n in names],
    )
    _add_version_if_changed(
        market,
        rules_text=rules_text.strip(),
        resolution_source=resolution_source.strip(),
        origin=MarketRuleVersion.Origin.MANUAL,
        effective_at=timezone.now(),
        by=by,
    )
    return market


@transaction.atomic
def market_rules_update(*, market: Market, by: User, rules_text: str, resolution_source: str = "") -> bool:
    """Record new rules text for a hand-entered market. Returns whether a version was added."""
    if market.source != Market.Source.MANUAL:
        raise ValidationError(
            "Rules of imported markets come from Polymarket; record a clarification instead."
        )
    if not rules_text.strip():
        raise ValidationError({"rules_text": "The rules can't be empty."})
    market = (
        Market.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=market.pk)
    )
    version = _add_version_if_changed(
        market,
        rules_text=rules_text.strip(),
        resolution_source=resolution_source.strip(),
        origin=MarketRuleVersion.Origin.MANUAL,
        effective_at=timezone.now(),
        by=by,
    )
    return version is not None


@transaction.atomic
def clarification_record(
    *, market: Market, by: User, text: str, source_url: str = "", published_at: dt.datetime
) -> Clarification:
    """Record published additional context; the market gets a new rule version that includes it,
    in force from its publication time. Refuses empty text and a publication time in the future."""
    errors = {}
    if not (text or "").strip():
        errors["text"] = "Paste the clarification's text exactly as published."
    if published_at is None:
        errors["published_at"] = "Say when it was published."
    elif published_at > timezone.now() + dt.timedelta(minutes=2):
        errors["published_at"] = "A clarification can't be published in the future."
    if errors:
        raise ValidationError(errors)
    market = (
        Market.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=market.pk)
    )
    clarification = Clarification.objects.create(
        market=market,
        text=text.strip(),
        source_url=source_url.strip(),
        published_at=published_at,
        recorded_at=timezone.now(),
        recorded_by=by,
    )
    current = market.current_version
    version = _add_version_if_changed(
        market,
        rules_text=current.rules_text if current else "",
        resolution_source=current.resolution_source if current else "",
        origin=MarketRuleVersion.Origin.CLARIFICATION,
        effective_at=published_at,
        by=by,
        source_url=source_url.strip(),
    )
    clarification.version = version
    clarification.save(update_fields=["version"])
    clarification_signal(
        market,
        clarification_id=clarification.pk,
        version=version,
        previous_version_id=current.pk if current else None,
    )
    market.clarification_count = market.clarification_records.count()
    market.save(update_fields=["clarification_count", "updated_at"])
    return clarification
