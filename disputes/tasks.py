"""django-q2 tasks for markets: thin and idempotent."""

from django.conf import settings

from disputes.services import markets_refresh as _markets_refresh
from disputes.services.markets import tier_one_markets_refresh as _tier_one_markets_refresh

# The Tier 1 refresh runs every 5 minutes: it stops well before the next run starts.
TIER_ONE_BUDGET_SECONDS = 240.0


def markets_refresh() -> dict:
    """Hourly: re-fetch open and recently closed markets, stalest first. Idempotent: unchanged
    rules add no version. Stops well inside the worker's task timeout; the next run goes on."""
    return _markets_refresh(time_budget_seconds=settings.Q_CLUSTER["timeout"] * 0.75)


def tier_one_markets_refresh() -> dict:
    """Every 5 minutes: re-fetch the markets Tier 1 accounts hold once they are 15 minutes old,
    stalest first, so the radar sees their changes within about 20 minutes instead of the hour.
    Idempotent; stops inside both the worker's timeout and the 5 minutes."""
    budget = min(TIER_ONE_BUDGET_SECONDS, settings.Q_CLUSTER["timeout"] * 0.75)
    return _tier_one_markets_refresh(time_budget_seconds=budget)


def radar_fan_out(signal_id: int) -> dict:
    """Queued when a market signal is stored: one heads-up per owner of the accounts holding the
    market, each mailed once. Idempotent: safe to retry or to run twice at once."""
    from disputes.radar.fanout import radar_fan_out as _radar_fan_out

    return _radar_fan_out(signal_id)


def held_markets_follow() -> dict:
    """Every 15 minutes: import the markets portfolio wallets hold that the portal does not
    follow yet (Tier 1 holdings first, 100 a run at most, 4 minutes at most), so the refreshes
    and the radar watch them. Idempotent."""
    from disputes.radar.following import held_markets_follow as _follow

    return _follow(time_budget_seconds=min(240.0, settings.Q_CLUSTER["timeout"] * 0.75))
