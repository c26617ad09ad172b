"""The reports' daily rollups: SLA clocks (rollups.clocks), conversations
(rollups.conversations), dispute cases (rollups.cases), the feedback loop (rollups.feedback) and
check-ins (rollups.check_ins),
each counted per UTC day, caught up
before a read and on a schedule, and read together with the rows themselves for the hours
around whole days."""

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from reports.models import (
    CaseDay,
    CheckInDay,
    ClockDay,
    ConversationDay,
    DurationDay,
    FeedbackDay,
    FollowUpDay,
    RolledAccount,
)
from reports.rollups.cases import CASES, DECIDED, OPENED
from reports.rollups.check_ins import CHECK_INS, HELD
from reports.rollups.clocks import (
    BANDS,
    MEASURES,
    band_counts,
    band_counts_by_span,
    band_floor,
    band_of,
    banded_percentiles,
    banded_percentiles_of,
    clock_counts,
    clock_counts_by_span,
    clocks_rebuild,
    clocks_refresh,
)
from reports.rollups.conversations import CLOSED, CONVERSATIONS, RATED, conversation_counts
from reports.rollups.feedback import FOLLOW_UPS, ITEMS

__all__ = [
    "BANDS",
    "CASES",
    "CHECK_INS",
    "CLOSED",
    "CONVERSATIONS",
    "DECIDED",
    "FOLLOW_UPS",
    "HELD",
    "ITEMS",
    "MEASURES",
    "OPENED",
    "RATED",
    "band_counts",
    "band_counts_by_span",
    "band_floor",
    "band_of",
    "banded_percentiles",
    "banded_percentiles_of",
    "clock_counts",
    "clock_counts_by_span",
    "conversation_counts",
    "rollups_caught_up",
    "rollups_rebuild",
    "rollups_refresh",
]


# The rollups kept by rollups.moving (the clocks keep their own).
_ROWS_ROLLUPS = (CONVERSATIONS, CASES, ITEMS, FOLLOW_UPS, CHECK_INS)
_CAUGHT_UP = ContextVar("reports_rollups_caught_up", default=False)


def rollups_refresh(now: dt.datetime | None = None) -> int:
    """Catch every rollup up; returns how many days were counted again. Inside
    `rollups_caught_up()` it does nothing: the report being built caught them up once."""
    if _CAUGHT_UP.get():
        return 0
    return clocks_refresh(now) + sum(rollup.refresh(now) for rollup in _ROWS_ROLLUPS)


def rollups_rebuild() -> int:
    """Count every day of every rollup again (after a bulk change that bypassed `updated_at`),
    then have the database look at the new rows: until it does, it plans the reports' reads
    on the old tables' statistics (a page right after a rebuild took 1.1 s instead of 0.7).
    PostgreSQL also vacuums them when no transaction is open (the scheduled task): the rebuild
    deleted every old row, and until those are cleared each read walks twice the pages and none
    is answered from an index alone (a 90-day page ~530 ms right after a rebuild, ~430 after)."""
    days = clocks_rebuild() + sum(rollup.rebuild() for rollup in _ROWS_ROLLUPS)
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in (
            ClockDay,
            DurationDay,
            ConversationDay,
            CaseDay,
            CheckInDay,
            FeedbackDay,
            FollowUpDay,
            RolledAccount,
        ):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")
    return days


@contextmanager
def rollups_caught_up():
    """Catch the rollups up once for a whole report: every family reads them after this, and
    their own refreshes inside the block are skipped (about 30 queries a page)."""
    rollups_refresh()
    token = _CAUGHT_UP.set(True)
    try:
        yield
    finally:
        _CAUGHT_UP.reset(token)
