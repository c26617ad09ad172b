"""The minute pass: what time alone changes on the SLA clocks (a warning or breach time coming)."""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from portal.db import bulk_update_rows
from support.models import SlaClock, SlaEvent
from support.sla.clocks import announce, record_due

BATCH = 2000
TICK_FIELDS = ["warned_at", "breached_at", "status", "next_deadline", "updated_at"]


@dataclass
class TickReport:
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0

    def as_dict(self) -> dict:
        return {"clocks": self.clocks, "warnings": self.warnings, "breaches": self.breaches}


def sla_tick(now: dt.datetime | None = None, *, batch: int = BATCH) -> TickReport:
    """Record the warnings and breaches whose time has come and move each clock's next deadline
    on. Reads only clocks whose indexed `next_deadline` has passed (a few queries whatever the
    number of clocks not due), a batch at a time. Safe to run twice at once: on PostgreSQL each
    run skips the rows the other holds (SKIP LOCKED); SQLite runs writers one at a time; and
    the events' unique constraint refuses a second warning or breach in any case. Safe to retry."""
    now = now or timezone.now()
    report = TickReport()
    while True:
        done = _tick_batch(now, batch, report)
        if done < batch:
            return report


def _tick_batch(now, batch: int, report: TickReport) -> int:
    with transaction.atomic():
        due = SlaClock.objects.filter(next_deadline__lte=now).order_by("next_deadline", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        else:
            due = due.select_for_update()
        clocks = list(due[:batch])
        events = []
        for clock in clocks:
            clock.updated_at = timezone.now()
            for kind, at in record_due(clock, now):
                events.append(SlaEvent(clock=clock, kind=kind, at=at, recorded_at=timezone.now()))
        # Each clock's flags were unset under its lock, so these are new; ignore_conflicts keeps
        # a row another path wrote in between from failing the batch.
        SlaEvent.objects.bulk_create(events, ignore_conflicts=True)
        bulk_update_rows(
            SlaClock, TICK_FIELDS, [[getattr(c, f) for f in TICK_FIELDS] + [c.pk] for c in clocks]
        )
        announce(events)
        for event in events:
            if event.kind == SlaEvent.Kind.BREACH:
                report.breaches += 1
            else:
                report.warnings += 1
        report.clocks += len(clocks)
        return len(clocks)
