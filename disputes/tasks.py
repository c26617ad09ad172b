"""django-q2 tasks for markets: thin and idempotent."""

from django.conf import settings

from disputes.services import markets_refresh as _markets_refresh


def markets_refresh() -> dict:
    """Hourly: re-fetch open and recently closed markets, stalest first. Idempotent: unchanged
    rules add no version. Stops well inside the worker's task timeout; the next run goes on."""
    return _markets_refresh(time_budget_seconds=settings.Q_CLUSTER["timeout"] * 0.75)


def radar_fan_out(signal_id: int) -> dict:
    """Queued when a market signal is stored: one heads-up per owner of the accounts holding the
    market, each mailed once. Idempotent: safe to retry or to run twice at once."""
    from disputes.radar.fanout import radar_fan_out as _radar_fan_out

    return _radar_fan_out(signal_id)
