"""Account health: a 0–100 score from documented components, computed in bulk.

Each component scores an account 0–100 (or None when it has nothing to go on) and carries a
weight; the score is the weighted mean of the components that had something to say. Later
capabilities (open disputes, recent satisfaction) plug in with `register_health_component`.

Built-in components:
- recency (weight 50): time since the last check-in against the account's cadence. Up to one
  cadence: 100; falling linearly to 0 at three cadences. An account never checked in counts
  from its creation.
- sentiment (weight 25): share of negative check-ins in the last 90 days (100 = none negative),
  15 points lower when the last 30 days are more negative than the 60 before (a worsening trend).
- volume (weight 25): 30-day trading volume against the 30 days before; 100 when it held or grew,
  down to 0 when it fell to nothing.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce

from accounts.models import Account, CheckIn


@dataclass(frozen=True)
class AccountFacts:
    id: int
    status: str
    created_at: dt.datetime
    last_check_in_at: dt.datetime | None
    cadence_days: int
    volume_30d: Decimal
    volume_prior_30d: Decimal


@dataclass(frozen=True)
class ComponentScore:
    score: int
    detail: str


@dataclass(frozen=True)
class HealthComponent:
    key: str
    label: str
    weight: int
    compute: Callable[[list[AccountFacts], dt.datetime], dict[int, ComponentScore]]


_components: dict[str, HealthComponent] = {}


def register_health_component(component: HealthComponent) -> None:
    _components[component.key] = component


def health_components() -> list[HealthComponent]:
    return list(_components.values())


def _clamp(value: float) -> int:
    return max(0, min(100, round(value)))


def _recency(facts: list[AccountFacts], now: dt.datetime) -> dict[int, ComponentScore]:
    scores = {}
    for f in facts:
        since = f.last_check_in_at or f.created_at
        days = max(0.0, (now - since).total_seconds() / 86400)
        ratio = days / f.cadence_days
        score = 100 if ratio <= 1 else _clamp(100 * (3 - ratio) / 2)
        what = "Last check-in" if f.last_check_in_at else "Never checked in; added"
        scores[f.id] = ComponentScore(score, f"{what} {days:.0f} days ago; cadence {f.cadence_days} days")
    return scores


def _sentiment(facts: list[AccountFacts], now: dt.datetime) -> dict[int, ComponentScore]:
    window, recent = now - dt.timedelta(days=90), now - dt.timedelta(days=30)
    negative = Q(sentiment=CheckIn.Sentiment.NEGATIVE)
    rows = (
        CheckIn.objects.filter(account_id__in=[f.id for f in facts], occurred_at__gte=window)
        .values("account_id")
        .annotate(
            total=Count("id"),
            negative=Count("id", filter=negative),
            recent_total=Count("id", filter=Q(occurred_at__gte=recent)),
            recent_negative=Count("id", filter=negative & Q(occurred_at__gte=recent)),
        )
    )
    scores = {}
    for row in rows:
        share = row["negative"] / row["total"]
        earlier_total = row["total"] - row["recent_total"]
        earlier_share = (row["negative"] - row["recent_negative"]) / earlier_total if earlier_total else 0
        recent_share = row["recent_negative"] / row["recent_total"] if row["recent_total"] else 0
        worsening = row["recent_total"] > 0 and recent_share > earlier_share
        detail = f"{row['negative']} of {row['total']} check-ins negative in 90 days"
        scores[row["account_id"]] = ComponentScore(
            _clamp(100 * (1 - share) - (15 if worsening else 0)),
            detail + ("; getting worse" if worsening else ""),
        )
    return scores


def _volume(facts: list[AccountFacts], now: dt.datetime) -> dict[int, ComponentScore]:
    scores = {}
    for f in facts:
        if f.volume_prior_30d <= 0:
            continue
        change = (f.volume_30d - f.volume_prior_30d) / f.volume_prior_30d * 100
        score = _clamp(float(f.volume_30d / f.volume_prior_30d) * 100)
        scores[f.id] = ComponentScore(
            score, f"30-day volume ${f.volume_30d:,.0f} vs ${f.volume_prior_30d:,.0f} before ({change:+.0f}%)"
        )
    return scores


register_health_component(HealthComponent("recency", "Check-in recency", 50, _recency))
register_health_component(HealthComponent("sentiment", "Sentiment trend", 25, _sentiment))
register_health_component(HealthComponent("volume", "Volume trend", 25, _volume))


def account_facts(account_ids: list[int] | None = None):
    rows = Account.objects.annotate(
        cadence=Coalesce(F("cadence_override_days"), F("tier__default_cadence_days"))
    ).values_list(
        "id", "status", "created_at", "last_check_in_at", "cadence", "volume_30d_usd", "volume_prior_30d_usd"
    )
    if account_ids is not None:
        rows = rows.filter(id__in=account_ids)
    return [AccountFacts(*row) for row in rows.order_by("id").iterator(chunk_size=2000)]


def compute_health(facts: list[AccountFacts], now: dt.datetime) -> dict[int, tuple[int | None, dict]]:
    """Score and per-component breakdown for each account in `facts`."""
    per_component = {c.key: (c, c.compute(facts, now)) for c in health_components()}
    results = {}
    for f in facts:
        parts, weighted, weights = {}, 0, 0
        for key, (component, scores) in per_component.items():
            found = scores.get(f.id)
            if found is None:
                parts[key] = {
                    "label": component.label,
                    "weight": component.weight,
                    "score": None,
                    "detail": "No data",
                }
                continue
            parts[key] = {
                "label": component.label,
                "weight": component.weight,
                "score": found.score,
                "detail": found.detail,
            }
            weighted += found.score * component.weight
            weights += component.weight
        results[f.id] = (round(weighted / weights) if weights else None, parts)
    return results
