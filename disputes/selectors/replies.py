"""Replies sent to Intercom from a case: where each stands, read from the outbox, and the case
history that shows it."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from disputes.models import (
    CaseEvent,
)
from integrations.models import SyncJob
from portal.models import User

REPLY_KEY_PREFIX = "reply:"


def reply_job_key(use_pk: int) -> str:
    """The outbox key of a case reply sent to Intercom: one job per template use."""
    return f"{REPLY_KEY_PREFIX}{use_pk}"


@dataclass(frozen=True)
class ReplyDelivery:
    """Where a sent reply stands, from its outbox job."""

    state: str  # queued, sending, sent, failed (retried later), dead (retries given up)
    error: str = ""
    retry_at: dt.datetime | None = None
    at: dt.datetime | None = None  # when the job last changed

    @property
    def refused(self) -> bool:
        return self.state in ("failed", "dead")


_DELIVERY_STATES = {
    SyncJob.Status.PENDING: "queued",
    SyncJob.Status.RUNNING: "sending",
    SyncJob.Status.DONE: "sent",
    SyncJob.Status.FAILED: "failed",
    SyncJob.Status.DEAD: "dead",
}
REFUSED_JOB_STATUSES = (SyncJob.Status.FAILED, SyncJob.Status.DEAD)


def _sent_reply_keys(events) -> dict[str, int]:
    """Outbox key -> event id, for the reply events that were sent to Intercom."""
    return {
        reply_job_key(event.after["use"]): event.pk
        for event in events
        if event.kind == CaseEvent.Kind.REPLY and event.after.get("sent") and event.after.get("use")
    }


def reply_deliveries(events) -> dict[int, ReplyDelivery]:
    """Event id -> delivery of each sent reply among `events`, from the newest outbox job of its
    key: one query however many replies."""
    keys = _sent_reply_keys(events)
    if not keys:
        return {}
    newest: dict[str, SyncJob] = {}
    jobs = (
        SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_REPLY, key__in=list(keys))
        .only("key", "status", "last_error", "next_attempt_at", "updated_at")
        .order_by("key", "pk")
    )
    for job in jobs:
        newest[job.key] = job
    return {
        keys[key]: ReplyDelivery(
            state=_DELIVERY_STATES.get(job.status, job.status),
            error=job.last_error if job.status in REFUSED_JOB_STATUSES else "",
            retry_at=job.next_attempt_at if job.status == SyncJob.Status.FAILED else None,
            at=job.updated_at,
        )
        for key, job in newest.items()
    }


def case_history(case) -> list[CaseEvent]:
    """The case's history, oldest first; each event carries `delivery` (a ReplyDelivery for a
    reply sent to Intercom, else None). Two queries."""
    events = list(case.events.select_related("actor"))
    deliveries = reply_deliveries(events)
    for event in events:
        event.delivery = deliveries.get(event.pk)
    return events


def replies_refused_for(user: User, *, limit: int = 25) -> list[CaseEvent]:
    """Replies sent to Intercom that it has not taken (failing and retried, or dead) on the cases
    `user` is assigned to, or sent by `user` on cases nobody is assigned to; oldest first, each
    with its `delivery` and its case and account. Read from the refused reply jobs (a handful),
    never from every reply ever sent: three queries at any size."""
    use_ids = _refused_reply_uses()
    if not use_ids:
        return []
    from playbooks.models import TemplateUse

    references = TemplateUse.objects.filter(
        pk__in=use_ids, subject_kind=TemplateUse.Subject.DISPUTE_CASE
    ).values("subject_ref")
    candidates = (
        CaseEvent.objects.filter(kind=CaseEvent.Kind.REPLY, after__sent=True, case__reference__in=references)
        .filter(Q(case__assignee=user) | Q(case__assignee__isnull=True, actor=user))
        .select_related("case__account")
        .order_by("at", "pk")
    )
    events = [event for event in candidates if event.after.get("use") in use_ids][:limit]
    deliveries = reply_deliveries(events)
    for event in events:
        event.delivery = deliveries.get(event.pk)
    return events


def _refused_reply_uses() -> set[int]:
    """The template uses whose newest reply job failed or is dead."""
    newer = SyncJob.objects.filter(
        kind=SyncJob.Kind.CONVERSATION_REPLY, key=OuterRef("key"), pk__gt=OuterRef("pk")
    )
    keys = (
        SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_REPLY, status__in=REFUSED_JOB_STATUSES)
        .exclude(Exists(newer))
        .values_list("key", flat=True)
    )
    found = (key.removeprefix(REPLY_KEY_PREFIX) for key in keys)
    return {int(use) for use in found if use.isdigit()}
