"""Applied SLA: the clocks of a conversation or a case, derived again from its facts whenever
something happens to it (a webhook or import page stored, a case filed, replied to, moved or
decided), and the warnings and breaches they record.

Times: a clock's due time is when its target of working time (in the policy's calendar) has run,
not counting paused working time; it warns `warn_minutes` of working time before that. While
paused a clock has no due time. Once breached, its due time no longer moves.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from disputes.models import CaseEvent, DisputeCase
from support import signals
from support.models import Conversation, SlaClock, SlaEvent, SlaPolicy
from support.sla.business_time import CalendarSpec, add_working_time, working_time_between
from support.sla.cycles import (
    CASE_EVENT_KINDS,
    ConversationPause,
    Span,
    case_spans,
    conversation_pause,
    conversation_spans,
)
from support.sla.heads import case_due_times, mark_queue_head
from support.sla.matching import RoutedSla, facts_for_case, facts_for_conversation, policy_for, routed_sla

logger = logging.getLogger(__name__)
ZERO = dt.timedelta(0)
TARGETS = {
    SlaClock.Metric.FIRST_RESPONSE: "first_response_minutes",
    SlaClock.Metric.NEXT_RESPONSE: "next_response_minutes",
    SlaClock.Metric.RESOLUTION: "resolution_minutes",
}
Status = SlaClock.Status


@dataclass(frozen=True)
class SlaSetup:
    """The active policies in order, with their calendars as the arithmetic reads them. Load it
    once per request or batch (`sla_setup()`, four queries) and pass it to the evaluations."""

    policies: list[SlaPolicy]
    specs: dict[int, CalendarSpec]


def sla_setup() -> SlaSetup:
    policies = list(
        SlaPolicy.objects.filter(is_active=True)
        .select_related("calendar")
        .prefetch_related("tiers", "calendar__windows", "calendar__holidays")
        .order_by("position")
    )
    specs = {p.calendar_id: p.calendar.spec() for p in policies}
    return SlaSetup(policies, specs)


def sla_evaluate_conversation(
    conversation: Conversation, now: dt.datetime | None = None, *, setup: SlaSetup | None = None
) -> list[SlaClock]:
    """Bring the conversation's clocks in line with its facts as stored now: start new cycles,
    stop what its replies or closing stopped, pause and resume, move due and warning times, and
    record a warning or breach whose time has come (once each). Returns its clocks. Idempotent:
    evaluating again with the same facts changes nothing. Reads `conversation.account`."""
    now = now or timezone.now()
    setup = setup or sla_setup()
    with transaction.atomic():
        clocks = list(SlaClock.objects.select_for_update().filter(conversation=conversation).order_by("pk"))
        routed = routed_sla("conversation", [conversation.pk]).get(conversation.pk)
        plan = plan_conversation(conversation, clocks, setup, now, routed=routed)
        plan.write()
        return plan.result


def sla_evaluate_case(
    case: DisputeCase, now: dt.datetime | None = None, *, setup: SlaSetup | None = None
) -> list[SlaClock]:
    """As sla_evaluate_conversation, for a dispute case: its clocks come from its history (filing,
    replies sent to the user, status changes, decisions). Reads `case.account`."""
    now = now or timezone.now()
    setup = setup or sla_setup()
    with transaction.atomic():
        clocks = list(SlaClock.objects.select_for_update().filter(case=case).order_by("pk"))
        events = (
            CaseEvent.objects.filter(case=case, kind__in=CASE_EVENT_KINDS)
            .order_by("at", "pk")
            .values_list("kind", "at", "before", "after")
        )
        plan = plan_case(case, clocks, events, setup, now, routed=routed_sla("case", [case.pk]).get(case.pk))
        plan.write()
        return plan.result


def plan_conversation(
    conversation: Conversation,
    clocks: list[SlaClock],
    setup: SlaSetup,
    now,
    *,
    routed: RoutedSla | None = None,
) -> "ItemPlan":
    """What evaluating the conversation changes, given its clocks as stored (locked by the
    caller) and what routing chose for its SLA, without writing anything."""
    facts = facts_for_conversation(conversation, routed)
    policy = policy_for(facts, policies=setup.policies)
    spans = conversation_spans(conversation, clocks)
    pause = conversation_pause(conversation)
    return _plan(
        clocks,
        spans,
        policy,
        setup,
        now,
        item={"conversation": conversation},
        pause=pause,
        tier_id=facts.tier_id,
    )


def plan_case(
    case: DisputeCase,
    clocks: list[SlaClock],
    events,
    setup: SlaSetup,
    now,
    *,
    routed: RoutedSla | None = None,
) -> "ItemPlan":
    """As plan_conversation, for a case and its history `events` ((kind, at, before, after) of
    CASE_EVENT_KINDS in time order)."""
    spans, pauses = case_spans(case, events)
    facts = facts_for_case(case, routed)
    policy = policy_for(facts, policies=setup.policies)
    plan = _plan(clocks, spans, policy, setup, now, item={"case": case}, pause=pauses, tier_id=facts.tier_id)
    plan.case_due = case_due_times(case, plan.clocks)
    return plan


@dataclass
class ItemPlan:
    """One item's evaluation: its clocks as they should be stored (`clocks`: every clock of the
    item; `result`: those its facts define, what the evaluate functions return), which of them
    are new or changed, and the warnings and breaches now owed. `write()` stores it for one
    item; support.sla.bulk stores many at once."""

    item: Conversation | DisputeCase
    clocks: list[SlaClock]
    result: list[SlaClock]
    new: list[SlaClock] = field(default_factory=list)
    changed: list[SlaClock] = field(default_factory=list)
    owed: list[tuple[SlaClock, str, dt.datetime]] = field(default_factory=list)
    case_due: tuple[dt.datetime, dt.datetime] | None = None  # a case's due times, when they move

    def write(self) -> None:
        for clock in (*self.new, *self.changed):
            clock.save()
        for clock, kind, at in self.owed:
            _event_once(clock, kind, at)
        if self.case_due is not None:
            case = self.item
            case.first_response_due, case.resolution_due = self.case_due
            DisputeCase.objects.filter(pk=case.pk).update(
                first_response_due=case.first_response_due, resolution_due=case.resolution_due
            )


def _plan(clocks, spans: Iterable[Span], policy, setup, now, *, item: dict, pause, tier_id) -> ItemPlan:
    by_key = {(c.metric, c.cycle): c for c in clocks}
    before = {id(c): _state(c) for c in clocks}
    plan = ItemPlan(item=next(iter(item.values())), clocks=list(clocks), result=[])
    for span in sorted(spans, key=lambda s: (s.started_at, s.metric, s.cycle)):
        if span.started_at > now:
            continue
        clock = by_key.get((span.metric, span.cycle))
        minutes = getattr(policy, TARGETS[span.metric]) if policy is not None else None
        if clock is None and minutes is None:
            continue  # the policy sets no such target
        if clock is None:
            clock = SlaClock(**item, metric=span.metric, cycle=span.cycle)
            plan.new.append(clock)
            plan.clocks.append(clock)
        elif not clock.is_running:
            plan.result.append(clock)  # finished clocks are history
            continue
        if minutes is None:  # the policy that applies now sets no such target
            clock.stopped_at, clock.status, clock.next_deadline = now, Status.CANCELLED, None
        else:
            clock.policy, clock.target_minutes = policy, minutes
            clock.started_at, clock.stopped_at, clock.achieved_at = (
                span.started_at,
                span.stopped_at,
                span.achieved_at,
            )
            _schedule(clock, setup.specs[policy.calendar_id], policy, now, pause)
            plan.owed.extend((clock, kind, at) for kind, at in record_due(clock, now))
        # Whose and which tier's target this is, as of its last evaluation: a finished clock
        # keeps the item's assignee and tier of when it stopped (what the reports group by).
        clock.item_tier_id, clock.item_assignee_id = tier_id, plan.item.assignee_id
        plan.result.append(clock)
    mark_queue_head(plan.clocks, plan.item.assignee_id)
    plan.changed = [c for c in clocks if _state(c) != before[id(c)]]
    return plan


STATE_FIELDS = (
    "policy_id", "target_minutes", "started_at", "due_at", "warn_at", "stopped_at", "achieved_at",
    "warned_at", "breached_at", "paused_since", "paused_total", "status", "next_deadline", "queue_rank",
    "queue_assignee_id", "wall_seconds", "working_seconds", "item_tier_id", "item_assignee_id",
)  # fmt: skip


def _state(clock: SlaClock) -> tuple:
    return tuple(getattr(clock, name) for name in STATE_FIELDS)


def _schedule(clock: SlaClock, spec: CalendarSpec, policy: SlaPolicy, now, pause) -> None:
    """Pause accounting, due and warning times, and status, from the clock's span."""
    target = dt.timedelta(minutes=clock.target_minutes)
    end = clock.stopped_at
    if not policy.pause_while_waiting:
        clock.paused_total, clock.paused_since = ZERO, None
    elif isinstance(pause, ConversationPause):
        _pause_from_state(clock, spec, pause, now)
    else:
        clock.paused_total, clock.paused_since = _pause_from_intervals(clock, spec, target, pause, now)
    if clock.breached_at is None:
        if clock.paused_since is not None:
            clock.due_at = clock.warn_at = None
        else:
            clock.due_at = add_working_time(spec, clock.started_at, target + clock.paused_total)
            ahead = max(target - dt.timedelta(minutes=policy.warn_minutes), ZERO)
            clock.warn_at = add_working_time(spec, clock.started_at, ahead + clock.paused_total)
    late = clock.due_at is not None and (end or now) > clock.due_at
    if end is not None:
        clock.status = (
            (Status.MISSED if late else Status.HIT)
            if clock.achieved_at
            else (Status.MISSED if late else Status.CANCELLED)
        )
    elif clock.paused_since is not None:
        clock.status = Status.PAUSED
    else:
        clock.status = Status.BREACHED if late or clock.breached_at else Status.ACTIVE
    clock.wall_seconds, clock.working_seconds = _durations(clock, spec)


def _durations(clock: SlaClock, spec: CalendarSpec) -> tuple[int | None, int | None]:
    """Wall and working seconds from start to achievement (the reports' response and
    resolution times); none for a clock not achieved."""
    if clock.stopped_at is None or clock.achieved_at is None:
        return None, None
    achieved = max(clock.achieved_at, clock.started_at)
    working = working_time_between(spec, clock.started_at, achieved) - clock.paused_total
    return (
        round((achieved - clock.started_at).total_seconds()),
        max(round(working.total_seconds()), 0),
    )


def _pause_from_intervals(clock, spec, target, intervals, now) -> tuple[dt.timedelta, dt.datetime | None]:
    """A case's paused working time from its waiting-on-user intervals: only pauses that began
    after the clock started, before it stopped and before it was due count."""
    total, due = ZERO, add_working_time(spec, clock.started_at, target)
    end = clock.stopped_at or now
    for since, until in intervals:
        since = max(since, clock.started_at)
        if since >= due or since > now or (clock.stopped_at is not None and since >= clock.stopped_at):
            break
        if until is None:
            return total, since
        until = min(until, end)
        if until > since:
            total += working_time_between(spec, since, until)
            due = add_working_time(spec, clock.started_at, target + total)
    return total, None


def _pause_from_state(clock, spec, pause: ConversationPause, now) -> None:
    """A conversation's pauses, kept on the clock as they are seen: Intercom tells only whether
    it waits on the user now. A pause begins only on a clock that is not yet due."""
    if clock.paused_since is not None and (not pause.paused or clock.stopped_at is not None):
        resumed = min(pause.resumed_at(clock.paused_since), clock.stopped_at or now)
        clock.paused_total += working_time_between(spec, clock.paused_since, max(resumed, clock.paused_since))
        clock.paused_since = None
    if (
        clock.paused_since is None
        and pause.paused
        and clock.stopped_at is None
        and clock.breached_at is None
        and (clock.due_at is None or pause.since < clock.due_at)
    ):
        clock.paused_since = min(max(pause.since, clock.started_at), now)


def record_due(clock: SlaClock, now) -> list[tuple[str, dt.datetime]]:
    """Mark the breach (and, while not yet breached, the warning) whose time has come, and
    move `next_deadline` to what is still pending. Sets `warned_at` / `breached_at` and returns
    the events now owed as (kind, at): the caller writes them (`_event_once`, or in bulk in the
    minute pass), under the clock's lock so that each is written once."""
    stop = clock.stopped_at
    due, warn = clock.due_at, clock.warn_at
    owed = []
    if clock.breached_at is None and due is not None and due <= now and (stop is None or stop > due):
        clock.breached_at = due
        owed.append((SlaEvent.Kind.BREACH, due))
        if stop is None:
            clock.status = Status.BREACHED
    elif (
        clock.warned_at is None
        and clock.breached_at is None
        and warn is not None
        and warn <= now
        and stop is None
        and (due is None or due > now)
    ):
        clock.warned_at = warn
        owed.append((SlaEvent.Kind.WARNING, warn))
    pending = []
    if stop is None and clock.paused_since is None and clock.breached_at is None:
        if clock.warned_at is None and warn is not None and warn > now:
            pending.append(warn)
        if due is not None and due > now:
            pending.append(due)
    clock.next_deadline = min(pending, default=None)
    return owed


def _event_once(clock: SlaClock, kind: str, at: dt.datetime) -> SlaEvent | None:
    """Write the event unless the clock has it already; announce it after commit."""
    try:
        with transaction.atomic():
            event = SlaEvent.objects.create(clock=clock, kind=kind, at=at, recorded_at=timezone.now())
    except IntegrityError:
        return None
    announce([event])
    return event


WARNING_MAIL_TASK = "support.tasks.sla_warning_mails"


def announce(events: Iterable[SlaEvent]) -> None:
    """After commit: send `sla_warning` / `sla_breached` for each newly recorded event (with the
    event and its clock as committed, its policy, conversation and case read with it), and queue
    one task that mails the warnings' recipients."""
    events = list(events)
    if not events:
        return

    def after_commit():
        # The clocks as committed, with what listeners read of them, in one query for the batch
        # (a listener re-reading its clock per event made a bulk evaluation's breaches cost
        # thousands of queries).
        fresh = SlaClock.objects.select_related("policy", "conversation", "case").in_bulk(
            {event.clock_id for event in events}
        )
        for event in events:
            signal = signals.sla_breached if event.kind == SlaEvent.Kind.BREACH else signals.sla_warning
            clock = fresh.get(event.clock_id, event.clock)
            # One listener failing must not keep the others, or the next events, from hearing.
            for receiver, result in signal.send_robust(sender=SlaClock, clock=clock, event=event):
                if isinstance(result, Exception):
                    logger.error("%s failed on %s", receiver, event, exc_info=result)
        warned = [event.clock.pk for event in events if event.kind == SlaEvent.Kind.WARNING]
        if warned:
            async_task(WARNING_MAIL_TASK, warned)

    transaction.on_commit(after_commit)


def metric_status(statuses: Iterable[str]) -> str | None:
    """The state of one metric of one item over its cycles: "active" (running, nothing missed),
    "active_with_misses" (running, and a cycle missed or breached), "hit", "missed"; None when
    it has no clock that counts (none, or all cancelled)."""
    statuses = [s for s in statuses if s != Status.CANCELLED]
    if not statuses:
        return None
    missed = any(s in (Status.MISSED, Status.BREACHED) for s in statuses)
    if any(s in SlaClock.RUNNING for s in statuses):
        return "active_with_misses" if missed else "active"
    return "missed" if missed else "hit"
