"""A year of dispute cases, planned and written as `disputes.demo_cases` plans and writes its own
(what each case is about, its filing, work, four-eyes decisions, amendments and closings), but
filed over the history window in time order and a chunk at a time. On top of that history, the
replies sent to the user (case events of kind "reply", by the specialist working the case): the
first response, and one after each answer the user gave to a question. Then the cases' SLA clocks,
evaluated from that history by the real code."""

import datetime as dt
import random

from django.db.models import Count

from accounts.models import Account
from disputes import demo_cases
from disputes.models import CaseEvent, DisputeCase
from reports.demo.moments import Window
from support.sla.bulk import sla_evaluate_cases
from support.sla.clocks import sla_setup

CHUNK = 2000
Status = DisputeCase.Status


def seed_history_cases(*, rng: random.Random, window: Window, count: int, specialists: list, progress):
    """`count` cases filed over the window (some still open in the last weeks), with their events,
    decisions, evidence and clocks (none without accounts or specialists)."""
    result = {"cases": 0, "case_events": 0, "decisions": 0, "case_replies": 0}
    if count <= 0 or not specialists or not Account.objects.exists():
        return result
    world = demo_cases._World(rng, specialists, window.now)
    setup = sla_setup()
    moments = window.moments(rng, count, until=window.now - dt.timedelta(hours=1))
    accounts = set()
    for start in range(0, count, CHUNK):
        slots = iter(moments[start : start + CHUNK])

        def filed(rng, world, earliest=None, slots=slots):
            moment = next(slots)
            if earliest is not None and moment < earliest:  # the market had no rules yet
                moment = earliest + (window.now - earliest) * rng.uniform(0.02, 0.3)
            return moment

        cases = [
            case for _ in range(min(CHUNK, count - start)) if (case := demo_cases._plan(rng, world, filed))
        ]
        if not cases:
            continue
        demo_cases._number(cases)
        for case in cases:
            demo_cases._history(rng, world, case)
            result["case_replies"] += _replies(rng, case, window.now)
        demo_cases._insert_cases(cases)
        demo_cases._insert_evidence(cases)
        result["decisions"] += demo_cases._insert_decisions(cases)[0]
        demo_cases._insert_snapshots(cases)
        result["case_events"] += demo_cases._insert_events(cases)
        demo_cases._account_timelines(cases)
        demo_cases._counters(cases)  # before the next chunk is numbered
        rows = list(DisputeCase.objects.filter(pk__in=[c.pk for c in cases]).select_related("account"))
        sla_evaluate_cases(rows, window.now, setup=setup)
        result["cases"] += len(cases)
        accounts.update(c.account.pk for c in cases)
        progress(f"{result['cases']}/{count} cases")
    counts = DisputeCase.objects.filter(status__in=DisputeCase.OPEN_STATUSES).values_list("account")
    demo_cases._open_counts_changed(
        {pk: n for pk, n in counts.annotate(n=Count("pk")).order_by() if pk in accounts}, world
    )
    return result


def _replies(rng: random.Random, case, now: dt.datetime) -> int:
    """Replies sent in the case's Intercom conversation by whoever worked it: the first response
    (when the case was picked up) and one after each time the user answered a question. Cases
    without a conversation were answered elsewhere (their first response is the pick-up)."""
    if not case.intercom or case.first_responded_at is None:
        return 0
    moves = [e for e in case.events if e.kind == CaseEvent.Kind.STATUS]
    if not moves:
        return 0
    end = case.decided_at or case.closed_at or now
    replies = [(moves[0].actor, case.first_responded_at)]
    for move in moves[1:]:
        if (
            move.before.get("status") == Status.WAITING_ON_USER
            and move.after.get("status") == Status.INVESTIGATING
        ):
            at = move.at + (end - move.at) * rng.uniform(0.05, 0.6)
            if at < end:
                replies.append((move.actor, at))
    for actor, at in replies:
        demo_cases._reply(rng, case, actor, at)
    case.events.sort(key=lambda e: e.at)
    return len(replies)
