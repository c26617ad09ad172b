"""Which running clock stands for its item in the queue (its most urgent), and a case's due
times as its clocks have them: kept by support.sla.clocks whenever due times or assignees move."""

import datetime as dt

from disputes.models import DisputeCase
from support.models import SlaClock

Status = SlaClock.Status


def queue_key(clock: SlaClock) -> tuple:
    """How urgent a running clock is, most urgent first: due earliest, paused (no due time)
    after every clock with one; the earlier-started, then metric and cycle, break ties."""
    return (
        clock.due_at is None,
        clock.due_at or clock.started_at,
        clock.started_at,
        clock.metric,
        clock.cycle,
    )


def mark_queue_head(clocks: list[SlaClock], assignee_id: int | None) -> None:
    """The item's most urgent running clock stands for it in the queue (`queue_rank` 0, or 1
    while paused, and the item's assignee); every other clock has none. Kept here, where due
    times and assignees change; the minute pass only marks warnings and breaches, which never
    move a due time, so the head it leaves is still the head."""
    running = [c for c in clocks if c.is_running]
    head = min(running, key=queue_key, default=None)
    for clock in clocks:
        if clock is not head:
            clock.queue_rank, clock.queue_assignee_id = None, None
        else:
            clock.queue_rank = 1 if clock.status == Status.PAUSED else 0
            clock.queue_assignee_id = assignee_id


def case_due_times(case: DisputeCase, clocks: list[SlaClock]) -> tuple[dt.datetime, dt.datetime] | None:
    """The case's first-response and resolution due times as its clocks have them (the first
    response clock, and the latest resolution cycle), for the case list and page; None when they
    do not move (a paused clock has no due time: the case keeps the one it had)."""
    first = resolution = None
    for clock in clocks:
        if clock.metric == SlaClock.Metric.FIRST_RESPONSE and clock.cycle == 0:
            first = clock.due_at
        elif clock.metric == SlaClock.Metric.RESOLUTION and (
            resolution is None or clock.cycle > resolution[0]
        ):
            resolution = (clock.cycle, clock.due_at)
    due = (first or case.first_response_due, (resolution and resolution[1]) or case.resolution_due)
    return None if due == (case.first_response_due, case.resolution_due) else due
