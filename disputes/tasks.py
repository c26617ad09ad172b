"""django-q2 tasks for markets: thin and idempotent."""

from disputes.services import markets_refresh as _markets_refresh


def markets_refresh() -> dict:
    """Re-fetch open and recently closed markets. Idempotent: unchanged rules add no version."""
    return _markets_refresh()
