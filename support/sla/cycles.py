"""When each SLA clock of a conversation or a case starts and stops: the definitions, as pure
functions of the item's facts (and, for a conversation, of the clocks already recorded, since
Intercom gives only the current state while a case keeps its whole history).

- First response (cycle 0): from the conversation's creation (the case's filing) to the first
  reply the user can see: Intercom's first admin reply (notes are not replies), or the first case
  reply sent to the user (a reply kept in the case history only does not count).
- Next response (cycles 1, 2, ...): once we have answered, each time the user writes while
  nothing from us is pending (Intercom's `waiting_since`; for a case, leaving "waiting on user"
  or being reopened) until our next reply. Each wait is a cycle of its own.
- Resolution (cycle 0, then one per reopening): from creation (or the reopening) to closed
  (conversation) or decided, else closed (case).
- Closing a conversation, or deciding or closing a case, stops every clock still running; a
  clock stopped without its reply is "cancelled" when it was not yet due and "missed" when it was.
- Pauses (only when the policy says so): a case is paused while "waiting on user"; a
  conversation while snoozed, or while the last word is ours (we replied, the user has not
  written since). The user's reply resumes it.
"""

import datetime as dt
from dataclasses import dataclass

from disputes.models import CaseEvent, DisputeCase

FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = "first_response", "next_response", "resolution"
Status = DisputeCase.Status
ENDED = (Status.DECIDED, Status.CLOSED)


@dataclass
class Span:
    """One clock as the facts define it: started, and stopped (achieved or not) or running."""

    metric: str
    cycle: int
    started_at: dt.datetime
    stopped_at: dt.datetime | None = None
    achieved_at: dt.datetime | None = None

    def stop(self, at: dt.datetime, *, achieved: bool) -> None:
        if self.stopped_at is None:
            self.stopped_at = max(at, self.started_at)
            self.achieved_at = self.stopped_at if achieved else None


@dataclass(frozen=True)
class ConversationPause:
    """Whether a conversation waits on the user now and since when; `resumed_at(since)` is when a
    pause that began at `since` ended, as best the facts tell."""

    paused: bool
    since: dt.datetime | None
    waiting_since: dt.datetime | None
    last_contact_reply_at: dt.datetime | None
    updated_at: dt.datetime

    def resumed_at(self, since: dt.datetime) -> dt.datetime:
        for moment in (self.waiting_since, self.last_contact_reply_at):
            if moment is not None and moment >= since:
                return moment
        return max(self.updated_at, since)


# Case history ----------------------------------------------------------------------------------

CASE_EVENT_KINDS = (
    CaseEvent.Kind.STATUS,
    CaseEvent.Kind.REPLY,
    CaseEvent.Kind.DECISION_RECORDED,
    CaseEvent.Kind.DECISION_AMENDED,
)


def case_spans(case: DisputeCase, events) -> tuple[list[Span], list[tuple[dt.datetime, dt.datetime | None]]]:
    """The clocks and the waiting-on-user intervals of a case, from its history: `events` are
    (kind, at, before, after) of CASE_EVENT_KINDS in time order."""
    events = list(events)
    if case.first_responded_at is not None:  # set by imports and the demo
        events.append((CaseEvent.Kind.REPLY, case.first_responded_at, {}, {"sent": True}))
        events.sort(key=lambda event: event[1])
    first = Span(FIRST_RESPONSE, 0, case.created_at)
    resolution = Span(RESOLUTION, 0, case.created_at)
    spans = [first, resolution]
    waiting: Span | None = None  # the running next-response cycle
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = []
    paused_since = None
    status = Status.NEW
    for kind, at, _before, after in events:
        if kind == CaseEvent.Kind.REPLY:
            if not (after or {}).get("sent"):
                continue
            if first.stopped_at is None:
                first.stop(at, achieved=True)
            elif waiting is not None:
                waiting.stop(at, achieved=True)
                waiting = None
            continue
        new = (after or {}).get("status")
        if not new or new == status:
            continue
        if new == Status.WAITING_ON_USER and paused_since is None:
            paused_since = at
        elif new != Status.WAITING_ON_USER and paused_since is not None:
            pauses.append((paused_since, at))
            paused_since = None
        if new in ENDED:
            resolution.stop(at, achieved=True)
            for span in (first, waiting):
                if span is not None:
                    span.stop(at, achieved=False)
            waiting = None
        elif status in ENDED:  # reopened
            resolution = Span(RESOLUTION, resolution.cycle + 1, at)
            spans.append(resolution)
            waiting = _next_cycle(spans, at) if first.stopped_at else None
        elif status == Status.WAITING_ON_USER and first.achieved_at is not None and waiting is None:
            waiting = _next_cycle(spans, at)
        status = new
    if paused_since is not None:
        pauses.append((paused_since, None))
    if case.status in ENDED and resolution.stopped_at is None:  # history written without events
        resolution.stop(case.decided_at or case.closed_at or case.updated_at, achieved=True)
        for span in spans:
            span.stop(resolution.stopped_at, achieved=False)
    return spans, pauses


def _next_cycle(spans: list[Span], at: dt.datetime) -> Span:
    cycle = 1 + max((s.cycle for s in spans if s.metric == NEXT_RESPONSE), default=0)
    span = Span(NEXT_RESPONSE, cycle, at)
    spans.append(span)
    return span


# Conversation state ----------------------------------------------------------------------------


def _ts(value) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def conversation_spans(conversation, recorded) -> list[Span]:
    """The clocks of a conversation: those `recorded` (objects with metric, cycle, started_at,
    stopped_at, achieved_at), moved on by its current facts, plus any new cycle they start."""
    c = conversation
    closed = c.state == "closed"
    last_close = c.closed_at or _ts((c.statistics or {}).get("last_close_at"))
    close_at = c.closed_at or last_close or c.updated_at_intercom
    known = {
        (r.metric, r.cycle): Span(r.metric, r.cycle, r.started_at, r.stopped_at, r.achieved_at)
        for r in recorded
    }
    spans = list(known.values())

    first = known.get((FIRST_RESPONSE, 0))
    if first is None:
        first = Span(FIRST_RESPONSE, 0, c.created_at_intercom)
        spans.append(first)
    if c.first_admin_reply_at is not None:
        first.stop(c.first_admin_reply_at, achieved=True)
    elif closed:
        first.stop(close_at, achieved=False)

    resolutions = sorted((s for s in spans if s.metric == RESOLUTION), key=lambda s: s.cycle)
    last = resolutions[-1] if resolutions else None
    cycle = max(c.reopened_count, last.cycle if last else 0)
    if not closed and last is not None and last.cycle == cycle and last.stopped_at is not None:
        cycle += 1  # open again although Intercom's reopen count has not moved yet
    if last is None or last.cycle < cycle:
        previous_end = max((s.stopped_at for s in resolutions if s.stopped_at), default=None)
        start = c.created_at_intercom if cycle == 0 else _reopened_at(c, previous_end, last_close)
        for span in resolutions:  # a reopening we did not see: the earlier cycle ended at the close
            span.stop(last_close if last_close and last_close >= span.started_at else start, achieved=True)
        last = Span(RESOLUTION, cycle, start)
        spans.append(last)
    if closed:
        last.stop(close_at, achieved=True)

    waiting_since = c.waiting_since
    starts_cycle = (
        not closed
        and waiting_since is not None
        and c.first_admin_reply_at is not None
        and waiting_since > c.first_admin_reply_at
    )
    for span in spans:
        if span.metric != NEXT_RESPONSE or span.stopped_at is not None:
            continue
        if starts_cycle and span.started_at == waiting_since:
            continue
        replied = c.last_admin_reply_at
        if replied is not None and replied >= span.started_at:
            span.stop(min(replied, waiting_since) if starts_cycle else replied, achieved=True)
        else:
            span.stop(close_at if closed else (waiting_since or c.updated_at_intercom), achieved=False)
    if starts_cycle and not any(s.metric == NEXT_RESPONSE and s.started_at == waiting_since for s in spans):
        _next_cycle(spans, waiting_since)
    return spans


def _reopened_at(c, previous_end, last_close) -> dt.datetime:
    after = previous_end or last_close or c.created_at_intercom
    for moment in (c.waiting_since, c.last_contact_reply_at):
        if moment is not None and moment > after:
            return moment
    return max(c.updated_at_intercom, after)


def conversation_pause(c) -> ConversationPause:
    """A conversation waits on the user while snoozed, or while open with the last word ours."""
    ours_last = (
        c.state != "closed"
        and c.waiting_since is None
        and c.last_admin_reply_at is not None
        and (c.last_contact_reply_at is None or c.last_admin_reply_at >= c.last_contact_reply_at)
    )
    if ours_last:
        since = c.last_admin_reply_at
    elif c.state == "snoozed":
        since = c.updated_at_intercom
    else:
        since = None
    return ConversationPause(
        paused=since is not None,
        since=since,
        waiting_since=c.waiting_since,
        last_contact_reply_at=c.last_contact_reply_at,
        updated_at=c.updated_at_intercom,
    )
