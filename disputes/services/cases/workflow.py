"""A case's status workflow and notes, and what every change to a case shares: the revision lock
against out-of-date pages, the history event, the Specialist check, and the account's timeline
and open-case count."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountEvent
from accounts.services import account_event_record, health_refresh_soon
from disputes.models import CaseEvent, DisputeCase
from disputes.signals import case_changed
from integrations.models import SyncJob
from integrations.outbox import outbox_record
from portal.models import User
from portal.roles import Role, user_roles

Status = DisputeCase.Status
# Which status may follow which. Reopening (from a status that is not open) needs a reason.
TRANSITIONS = {
    Status.NEW: {Status.INVESTIGATING, Status.WAITING_ON_USER, Status.ESCALATED, Status.CLOSED},
    Status.INVESTIGATING: {Status.WAITING_ON_USER, Status.ESCALATED, Status.CLOSED},
    Status.WAITING_ON_USER: {Status.INVESTIGATING, Status.ESCALATED, Status.CLOSED},
    Status.ESCALATED: {Status.INVESTIGATING, Status.WAITING_ON_USER, Status.CLOSED},
    Status.DECIDED: {Status.CLOSED, Status.INVESTIGATING},
    Status.CLOSED: {Status.INVESTIGATING},
}


def is_reopening(status: str, to: str) -> bool:
    return status not in DisputeCase.OPEN_STATUSES and to == Status.INVESTIGATING


def case_event_add(case, kind, by, summary, **fields) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=by, at=timezone.now(), summary=summary[:300], **fields
    )


def case_lock(case: DisputeCase, expected_revision: int | None) -> DisputeCase:
    locked = DisputeCase.objects.select_for_update(of=("self",)).select_related("account").get(pk=case.pk)
    if expected_revision is not None and locked.revision != expected_revision:
        raise ValidationError(
            "Someone else changed this case while you had it open. Nothing was saved: reload the "
            "case to see their change, then try again."
        )
    return locked


def require_specialist(user: User, what: str) -> None:
    if Role.SPECIALIST not in user_roles(user):
        raise ValidationError(f"Only a Specialist can {what}.")


def account_timeline_add(case: DisputeCase, by: User, summary: str) -> None:
    """Cases show on the account's timeline, linked to the case file."""
    account_event_record(
        account_id=case.account_id,
        kind=AccountEvent.Kind.DISPUTE,
        actor=by,
        summary=summary,
        details={"case": case.reference, "url": reverse("disputes:case_detail", args=[case.reference])},
    )


def account_open_cases_changed(case: DisputeCase) -> None:
    """Open-case counts feed the account's health and its Intercom contact."""
    open_count = DisputeCase.objects.open().filter(account_id=case.account_id).count()
    outbox_record(
        kind=SyncJob.Kind.CONTACT_ATTRIBUTES,
        key=f"account:{case.account_id}:disputes",
        payload={
            "external_id": case.account.external_id,
            "custom_attributes": {"advanced_open_disputes": open_count},
        },
    )
    health_refresh_soon(account_ids=[case.account_id])


@transaction.atomic
def dispute_transition(
    *, case: DisputeCase, by: User, to: str, reason: str = "", expected_revision: int | None = None
) -> DisputeCase:
    """Move a case along the workflow. Illegal moves, reopening without a reason and changes
    made against an out-of-date page are refused with a message; nothing is saved then.
    A case becomes `decided` only by recording a decision."""
    case = case_lock(case, expected_revision)
    if to == Status.DECIDED:
        raise ValidationError("A case is decided by recording a decision with its rule citations.")
    if to not in TRANSITIONS.get(case.status, set()):
        raise ValidationError(
            f"A case that is {case.get_status_display().lower()} can’t move to “{Status(to).label.lower()}”."
            if to in Status.values
            else f"“{to}” is not a case status."
        )
    reopening = is_reopening(case.status, to)
    if reopening and not (reason or "").strip():
        raise ValidationError("Say why the case is reopened; the reason is kept in its history.")
    before = case.status
    case.status = to
    case.closed_at = timezone.now() if to == Status.CLOSED else None
    case.revision += 1
    case.save(update_fields=["status", "closed_at", "revision", "updated_at"])
    summary = f"{'Reopened' if reopening else 'Status'}: {Status(before).label} → {Status(to).label}"
    case_event_add(
        case,
        CaseEvent.Kind.STATUS,
        by,
        summary,
        before={"status": before},
        after={"status": to},
        note=reason.strip(),
    )
    case_changed.send(sender=DisputeCase, case=case, what="status")
    return case


@transaction.atomic
def case_note_add(*, case: DisputeCase, by: User, text: str) -> CaseEvent:
    """An internal note in the case's history (never shown to the user; never editable)."""
    if not (text or "").strip():
        raise ValidationError({"text": "Write the note."})
    return case_event_add(
        case, CaseEvent.Kind.NOTE, by, f"Note by {by.display_name}", note=text.strip()[:10_000]
    )
