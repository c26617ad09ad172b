"""Reads of the conversation mirror for the account and case pages (one query each, however
many conversations an account has), and who may read or change the SLA settings."""

import datetime as dt
from collections.abc import Iterable
from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse

from portal.roles import Role
from portal.selectors import object_get_for_user
from support.models import BusinessCalendar, Conversation, SlaClock, SlaPolicy
from support.sla.business_time import working_time_between
from support.sla.calendars import calendar_specs

# Intercom's web app, per hosting region (a workspace lives in exactly one).
APP_HOSTS = {
    "us": "https://app.intercom.com",
    "eu": "https://app.eu.intercom.com",
    "au": "https://app.au.intercom.com",
}


def conversation_url(intercom_id: str) -> str:
    """A deep link that opens the conversation in the Intercom inbox, or "" when none would work.

    The inbox's link is `/a/inbox/<app_id>/inbox/conversation/<id>`, with INTERCOM_APP_ID (the
    workspace's id_code: `GET /me` → `app.id_code`, also the part after /a/apps/ or /a/inbox/
    in any Intercom URL). Without it there is no link that is known to open: pages show the
    conversation's title and id as text, and pages and e-mails point to the portal instead."""
    app_id = (getattr(settings, "INTERCOM_APP_ID", "") or "").strip()
    if not app_id:
        return ""
    host = APP_HOSTS.get(getattr(settings, "INTERCOM_REGION", "us"), APP_HOSTS["us"])
    conversation = quote(str(intercom_id), safe="")
    return f"{host}/a/inbox/{quote(app_id, safe='')}/inbox/conversation/{conversation}"


def account_conversations(account, *, limit: int) -> list[Conversation]:
    """The account's conversations, newest first, with their portal assignee and routing
    decision (one query)."""
    return list(
        Conversation.objects.filter(account=account)
        .select_related("assignee", "routing")
        .defer("statistics")
        .order_by("-created_at_intercom", "-pk")[:limit]
    )


def conversation_timeline_entries(account, limit: int) -> list[dict]:
    """The account's conversations as timeline entries (kind "conversation"), placed at the
    moment each conversation started."""
    return [
        {
            "at": c.created_at_intercom,
            "kind": "conversation",
            "conversation": c,
            "url": conversation_url(c.intercom_id),
        }
        for c in account_conversations(account, limit=limit)
    ]


def linked_conversation(intercom_id: str) -> dict | None:
    """What a case page shows about its Intercom conversation: the mirrored row when there is
    one (None otherwise) and the deep link either way. None when the case has no id."""
    intercom_id = (intercom_id or "").strip()
    if not intercom_id:
        return None
    conversation = Conversation.objects.select_related("assignee").filter(intercom_id=intercom_id).first()
    return {"intercom_id": intercom_id, "url": conversation_url(intercom_id), "conversation": conversation}


# Admins configure SLA policies; Specialists and Leadership read them; Product does not see them.
SLA_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
SLA_EDITORS = (Role.ADMIN,)


def calendar_get_for_user(*, user, pk, to_change: bool = False) -> BusinessCalendar:
    return object_get_for_user(
        BusinessCalendar.objects.prefetch_related("windows", "holidays"),
        user=user,
        roles=SLA_EDITORS if to_change else SLA_READERS,
        denied="Only Admins change SLA calendars."
        if to_change
        else "Your role does not include SLA settings.",
        missing="No such calendar.",
        pk=pk,
    )


def policy_get_for_user(*, user, pk, to_change: bool = False) -> SlaPolicy:
    return object_get_for_user(
        SlaPolicy.objects.select_related("calendar").prefetch_related("tiers"),
        user=user,
        roles=SLA_EDITORS if to_change else SLA_READERS,
        denied="Only Admins change SLA policies."
        if to_change
        else "Your role does not include SLA settings.",
        missing="No such policy.",
        pk=pk,
    )


# The queue (/support/) and the Breaching soon panel: one row per open item, the item's most
# urgent running clock (its "queue head", marked by support.sla.clocks: `queue_rank` 0 while it
# runs, 1 while paused). Running heads come first, by due time, so the breached lead (most
# overdue first); the paused follow; the lower id breaks ties. The partial index
# sla_clock_queue_idx holds exactly this order, so a page is a range read of the index.
QUEUE_WORKERS = (Role.SPECIALIST, Role.ADMIN)
QUEUE_ORDER = ("queue_rank", "due_at", "pk")
RUNS, PAUSED = 0, 1


class QueueState(models.TextChoices):
    BREACHED = "breached", "Breached"
    WARNING = "warning", "Warning"
    ON_TRACK = "on_track", "On track"
    PAUSED = "paused", "Paused"


def queue_clocks() -> QuerySet[SlaClock]:
    """Every open conversation and case with a running clock, once, as its most urgent running
    clock, with the item, its account and tier, its assignee and the clock's policy loaded, in
    queue order. No column of the queue runs a query."""
    return (
        SlaClock.objects.filter(queue_rank__isnull=False)
        .select_related(
            "policy",
            "conversation__account__tier",
            "conversation__assignee",
            "case__account__tier",
            "case__assignee",
        )
        .defer(
            "conversation__statistics",
            "conversation__tags",
            "conversation__rating_remark",
            "conversation__account__notes",
            "conversation__account__health_components",
            "case__requested_remedy",
            "case__account__notes",
            "case__account__health_components",
        )
        .order_by(*QUEUE_ORDER)
    )


def queue_state_filter(state: str, now: dt.datetime) -> Q:
    """The queue heads in one SLA state at `now`, as ranges of the queue index. A running clock
    past its due time counts as breached before the minute pass has marked it (a running head
    always has a due time; a breached one's never moves)."""
    return {
        QueueState.BREACHED: Q(queue_rank=RUNS, due_at__lte=now),
        QueueState.WARNING: Q(queue_rank=RUNS, due_at__gt=now, warn_at__lte=now),
        QueueState.ON_TRACK: Q(queue_rank=RUNS, due_at__gt=now) & ~Q(warn_at__lte=now),
        QueueState.PAUSED: Q(queue_rank=PAUSED),
    }[state]


def queue_state(clock: SlaClock, now: dt.datetime) -> str:
    """The SLA state of a running clock at `now`, as `queue_state_filter` reads it."""
    if clock.status == SlaClock.Status.PAUSED or clock.due_at is None:
        return QueueState.PAUSED
    if clock.status == SlaClock.Status.BREACHED or clock.due_at <= now:
        return QueueState.BREACHED
    if clock.warn_at is not None and clock.warn_at <= now:
        return QueueState.WARNING
    return QueueState.ON_TRACK


def queue_assigned(who: str, user) -> Q:
    """Items assigned to `user` ("mine"), to nobody ("unassigned"), or all ("everyone"), read
    from the assignee kept on each queue head (an index, not a join per item)."""
    if who == "mine":
        return Q(queue_assignee=user)
    if who == "unassigned":
        return Q(queue_assignee__isnull=True)
    return Q()


def queue_time_left(clocks: Iterable[SlaClock], now: dt.datetime) -> None:
    """Set `state` and `time_left` on each clock (the rows of one page): working time in its
    policy's calendar until it is due (negative once overdue; for a paused clock, what was
    left when it paused). The calendars are loaded once, three queries however many rows."""
    clocks = list(clocks)
    specs = calendar_specs({clock.policy.calendar_id for clock in clocks})
    for clock in clocks:
        spec = specs[clock.policy.calendar_id]
        clock.state = queue_state(clock, now)
        if clock.due_at is None:
            used = working_time_between(spec, clock.started_at, clock.paused_since or now)
            target = dt.timedelta(minutes=clock.target_minutes) + clock.paused_total
            clock.time_left = target - used
        elif clock.due_at > now:
            clock.time_left = working_time_between(spec, now, clock.due_at)
        else:
            clock.time_left = -working_time_between(spec, clock.due_at, now)


def queue_item_link(clock: SlaClock) -> None:
    """Set `item` (the conversation or case) and `item_url` (the Intercom inbox, or the case
    page) on a clock of `queue_clocks()`."""
    if clock.conversation_id:
        clock.item, clock.item_url = clock.conversation, conversation_url(clock.conversation.intercom_id)
    else:
        clock.item = clock.case
        clock.item_url = reverse("disputes:case_detail", args=[clock.case.reference])


BREACHING_SOON_ROWS = 10


def breaching_soon(user, now: dt.datetime) -> list[SlaClock]:
    """The items whose most urgent clock warns or is breached at `now`, assigned to `user` or
    to nobody, most overdue first: at most ten, one query."""
    due = queue_state_filter(QueueState.BREACHED, now) | queue_state_filter(QueueState.WARNING, now)
    return list(
        queue_clocks()
        .filter(due)
        .filter(queue_assigned("mine", user) | queue_assigned("unassigned", user))[:BREACHING_SOON_ROWS]
    )
