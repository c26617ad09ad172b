"""Following the markets the portfolio holds: a market a portfolio wallet holds a position in
that the portal does not follow yet is imported from Gamma (its first import, so no signal), so
that the refreshes watch it and the radar sees it proposed or disputed. Largest holdings first
(Tier 1 before the others), a bounded number a run; a market Gamma does not know is not asked
again for a day by the same worker process (the memory is Django's cache, local to the process
unless CACHES names a shared one)."""

import datetime as dt
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, F, Min, OuterRef, Sum
from django.utils import timezone

from accounts.models import Exposure
from disputes.models import Market
from disputes.services.markets import market_upsert_from_gamma
from integrations.polymarket.data_api import PolymarketError, PolymarketNotFound
from integrations.polymarket.gamma import GammaClient

FOLLOW_PER_RUN = 100
NOT_ON_GAMMA_FOR = dt.timedelta(days=1)


def _missing_key(condition_id: str) -> str:
    return f"radar:not-on-gamma:{condition_id}"


def held_markets_unfollowed(*, limit: int) -> list[str]:
    """Condition ids held (size > 0) by portfolio wallets with no market in the portal: Tier 1
    holdings first, then by the value held. Those Gamma recently did not know are left out."""
    followed = Market.objects.filter(condition_id=OuterRef("condition_id"))
    rows = (
        Exposure.objects.filter(size__gt=0)
        .exclude(Exists(followed))
        .values("condition_id")
        .annotate(best_tier=Min("account__tier__rank"), value=Sum("current_value"))
        .order_by("best_tier", F("value").desc(nulls_last=True), "condition_id")
    )
    wanted: list[str] = []
    for chunk_start in range(0, 10 * limit, limit):  # skip the recent misses, a page at a time
        page = [row["condition_id"] for row in rows[chunk_start : chunk_start + limit]]
        if not page:
            break
        missed = cache.get_many([_missing_key(c) for c in page])
        wanted += [c for c in page if _missing_key(c) not in missed]
        if len(wanted) >= limit:
            break
    return wanted[:limit]


def held_markets_follow(*, limit: int = FOLLOW_PER_RUN, time_budget_seconds: float | None = None) -> dict:
    """Import up to `limit` held markets the portal does not follow. Idempotent: a market
    imported meanwhile by someone else is updated, not doubled. Not with the demo's fixtures on:
    the demo's positions are synthetic, and Polymarket does not have their markets."""
    outcome = {"followed": 0, "not_on_gamma": 0, "failed": 0, "left_for_next_run": 0}
    if settings.POLYMARKET_DEMO_FIXTURES:
        return outcome
    started = time.monotonic()
    wanted = held_markets_unfollowed(limit=limit)
    with GammaClient() as client:
        for position, condition_id in enumerate(wanted):
            if time_budget_seconds is not None and time.monotonic() - started > time_budget_seconds:
                outcome["left_for_next_run"] = len(wanted) - position
                break
            try:
                data = client.market_by_condition_id(condition_id)
            except PolymarketNotFound:
                cache.set(_missing_key(condition_id), 1, NOT_ON_GAMMA_FOR.total_seconds())
                outcome["not_on_gamma"] += 1
                continue
            except PolymarketError:
                outcome["failed"] += 1
                continue
            market_upsert_from_gamma(data=data, by=None, fetched_at=timezone.now())
            outcome["followed"] += 1
    return outcome
