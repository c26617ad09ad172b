"""Rows for report tests, written straight to the tables (the reports read what the services
leave behind; these builders set exactly the fields a figure counts)."""

import datetime as dt
from itertools import count

from django.utils import timezone

from reports.periods import period_of_days
from support.models import Conversation, SlaClock

_ids = count(880000001)
UTC = dt.UTC
NOVEMBER = period_of_days(dt.date(2026, 11, 1), dt.date(2026, 11, 30), UTC, label="November 2026", params=[])


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def conversation_row(
    *, account=None, assignee=None, created=None, closed=None, rating=None, rated=None, **fields
):
    created = created or (closed or rated or timezone.now()) - dt.timedelta(hours=2)
    return Conversation.objects.create(
        intercom_id=str(next(_ids)),
        account=account,
        assignee=assignee,
        created_at_intercom=created,
        updated_at_intercom=max(t for t in (created, closed, rated) if t is not None),
        state=Conversation.State.CLOSED if closed else Conversation.State.OPEN,
        closed_at=closed,
        rating=rating,
        rated_at=rated,
        **fields,
    )


def clock_row(
    *,
    policy,
    conversation=None,
    case=None,
    metric=SlaClock.Metric.FIRST_RESPONSE,
    cycle=0,
    started=None,
    achieved=None,
    stopped=None,
    status=None,
    wall=None,
    working=None,
    target=60,
):
    started = started or (achieved or stopped) - dt.timedelta(seconds=wall or 600)
    stopped = stopped or achieved
    if status is None:
        status = SlaClock.Status.HIT if achieved else SlaClock.Status.ACTIVE
    if achieved is not None and wall is None:
        wall = round((achieved - started).total_seconds())
    return SlaClock.objects.create(
        conversation=conversation,
        case=case,
        policy=policy,
        metric=metric,
        cycle=cycle,
        target_minutes=target,
        started_at=started,
        due_at=started + dt.timedelta(minutes=target),
        stopped_at=stopped,
        achieved_at=achieved,
        status=status,
        wall_seconds=wall if achieved else None,
        working_seconds=(working if working is not None else wall) if achieved else None,
    )
