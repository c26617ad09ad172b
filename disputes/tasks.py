"""django-q2 tasks for markets: thin and idempotent."""

from django.conf import settings

from disputes.services import markets_refresh as _markets_refresh


def markets_refresh() -> dict:
    """Hourly: re-fetch open and recently closed markets, stalest first. Idempotent: unchanged
    rules add no version. Stops well inside the worker's task timeout; the next run goes on."""
    return _markets_refresh(time_budget_seconds=settings.Q_CLUSTER["timeout"] * 0.75)
