"""django-q2 tasks of the portfolio: thin, idempotent, each calls one service."""

from accounts.services import cadence_daily_pass as _cadence_daily_pass


def cadence_daily_pass() -> dict:
    """Daily: recompute due dates and health (with today's snapshot), mail overdue digests.
    Idempotent; safe to retry or to run twice."""
    return _cadence_daily_pass()
