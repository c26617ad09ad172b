"""SLA evaluation of many items at once: rows written in bulk (an import page, seeded data) and
the open items that have no clock yet. The same evaluation as support.sla.clocks, item by item in
memory, with each chunk's clocks read, locked and written in a handful of queries instead of a
few per item."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from disputes.models import CaseEvent, DisputeCase
from portal.db import bulk_create_with_ids, bulk_update_rows
from support.models import Conversation, SlaClock, SlaEvent
from support.sla.clocks import (
    STATE_FIELDS,
    ItemPlan,
    SlaSetup,
    announce,
    plan_case,
    plan_conversation,
    sla_evaluate_case,
    sla_evaluate_conversation,
    sla_setup,
)
from support.sla.cycles import CASE_EVENT_KINDS
from support.sla.matching import routed_sla

CHUNK = 500
# STATE_FIELDS as model fields (the policy's id is written through its foreign key).
WRITTEN_FIELDS = [name.removesuffix("_id") for name in STATE_FIELDS]


def sla_evaluate_conversations(
    conversations: Sequence[Conversation], now: dt.datetime | None = None, *, setup: SlaSetup | None = None
) -> int:
    """Evaluate conversations (with `account` loaded) as sla_evaluate_conversation does, a chunk
    at a time: per chunk, one query reads and locks their clocks and a few write what changed.
    Runs inside the caller's transaction when there is one. Returns how many were evaluated."""
    now = now or timezone.now()
    setup = setup or sla_setup()
    for chunk in _chunks(conversations):
        with transaction.atomic():
            held = _clocks_by_item("conversation", [c.pk for c in chunk])
            routed = routed_sla("conversation", [c.pk for c in chunk])
            plans = [plan_conversation(c, held[c.pk], setup, now, routed=routed.get(c.pk)) for c in chunk]
            if not _write(plans):
                for conversation in chunk:  # another writer gave one a clock meanwhile
                    sla_evaluate_conversation(conversation, now, setup=setup)
    return len(conversations)


def sla_evaluate_cases(
    cases: Sequence[DisputeCase], now: dt.datetime | None = None, *, setup: SlaSetup | None = None
) -> int:
    """As sla_evaluate_conversations, for cases (with `account` loaded): their histories are read
    in one query per chunk as well."""
    now = now or timezone.now()
    setup = setup or sla_setup()
    for chunk in _chunks(cases):
        with transaction.atomic():
            ids = [c.pk for c in chunk]
            held = _clocks_by_item("case", ids)
            history = defaultdict(list)
            for case_id, *event in (
                CaseEvent.objects.filter(case_id__in=ids, kind__in=CASE_EVENT_KINDS)
                .order_by("case_id", "at", "pk")
                .values_list("case_id", "kind", "at", "before", "after")
            ):
                history[case_id].append(tuple(event))
            routed = routed_sla("case", ids)
            plans = [
                plan_case(c, held[c.pk], history[c.pk], setup, now, routed=routed.get(c.pk)) for c in chunk
            ]
            if not _write(plans):
                for case in chunk:
                    sla_evaluate_case(case, now, setup=setup)
    return len(cases)


def sla_evaluate_items(
    *, conversation_ids: Iterable[int] = (), case_ids: Iterable[int] = (), now: dt.datetime | None = None
) -> int:
    """Evaluate conversations and cases by id with one policy setup, a chunk at a time, each
    chunk in its own transaction. Returns how many were evaluated. Safe to retry."""
    now = now or timezone.now()
    setup = sla_setup()
    done = 0
    for ids in _chunks(sorted(set(conversation_ids))):
        chunk = list(Conversation.objects.filter(pk__in=ids).select_related("account").order_by("pk"))
        done += sla_evaluate_conversations(chunk, now, setup=setup)
    for ids in _chunks(sorted(set(case_ids))):
        chunk = list(DisputeCase.objects.filter(pk__in=ids).select_related("account").order_by("pk"))
        done += sla_evaluate_cases(chunk, now, setup=setup)
    return done


def sla_evaluate_open(now: dt.datetime | None = None) -> int:
    """Evaluate every open conversation and case that has no running clock yet (those that
    existed before the SLA clocks did, or were written in bulk). Safe to retry."""
    running = SlaClock.objects.filter(status__in=SlaClock.RUNNING)
    conversations = Conversation.objects.exclude(state=Conversation.State.CLOSED).filter(
        ~Exists(running.filter(conversation=OuterRef("pk")))
    )
    cases = DisputeCase.objects.open().filter(~Exists(running.filter(case=OuterRef("pk"))))
    return sla_evaluate_items(
        conversation_ids=conversations.values_list("pk", flat=True),
        case_ids=cases.values_list("pk", flat=True),
        now=now,
    )


def _chunks(items: Sequence) -> Iterable[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _clocks_by_item(item: str, ids: list[int]) -> dict[int, list[SlaClock]]:
    held = defaultdict(list)
    for clock in SlaClock.objects.select_for_update().filter(**{f"{item}_id__in": ids}).order_by("pk"):
        held[getattr(clock, f"{item}_id")].append(clock)
    return held


def _write(plans: list[ItemPlan]) -> bool:
    """Store the plans of one chunk: new clocks in one insert, changed ones in one update, the
    events owed in one insert, moved case due times in one update. False, with nothing written,
    when a clock was created by someone else meanwhile (the caller then goes item by item)."""
    new = [clock for plan in plans for clock in plan.new]
    try:
        with transaction.atomic():
            bulk_create_with_ids(SlaClock, new)
    except IntegrityError:
        return False
    stamp = timezone.now()
    bulk_update_rows(
        SlaClock,
        [*WRITTEN_FIELDS, "updated_at"],
        [
            [getattr(clock, name) for name in STATE_FIELDS] + [stamp, clock.pk]
            for plan in plans
            for clock in plan.changed
        ],
    )
    # The item's clocks are locked (or new), and a flag is set only when its event is owed, so
    # these events are new; ignore_conflicts keeps a row written in between from failing the chunk.
    events = [
        SlaEvent(clock=clock, kind=kind, at=at, recorded_at=stamp)
        for plan in plans
        for clock, kind, at in plan.owed
    ]
    SlaEvent.objects.bulk_create(events, ignore_conflicts=True)
    announce(events)
    due = [(*plan.case_due, plan.item.pk) for plan in plans if plan.case_due is not None]
    if due:
        bulk_update_rows(DisputeCase, ["first_response_due", "resolution_due"], due)
    return True
