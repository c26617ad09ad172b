"""Escalations: raised by a Specialist or by an SLA breach, acknowledged, resolved. Each change is
one transaction with its history event; the first page goes out right after the raise commits
(oncall.tasks.escalations_page), and the minute pass pages the next steps."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from oncall.models import Escalation, EscalationEvent, EscalationPolicy
from portal.models import User
from portal.roles import Role, has_role

PAGE_TASK = "oncall.tasks.escalations_page"
ITEMS = ("case", "conversation", "account")


def escalation_raise(
    *,
    by: User | None,
    severity: str,
    summary: str,
    case=None,
    conversation=None,
    account=None,
    policy: EscalationPolicy | None = None,
    sla_clock=None,
    now: dt.datetime | None = None,
) -> tuple[Escalation, bool]:
    """Raise an escalation about one item (a case, a conversation or an account). `by` is the
    Specialist raising it, or None for an SLA breach (`sla_clock` set). When the item already
    has an open escalation, the raise is recorded on that one instead (a "raised again" event)
    and it is returned with False. Raises ValidationError with a message for bad input."""
    now = now or timezone.now()
    items = {
        name: obj for name, obj in zip(ITEMS, (case, conversation, account), strict=True) if obj is not None
    }
    summary = (summary or "").strip()
    errors = {}
    if len(items) != 1:
        errors["__all__"] = ["An escalation is about exactly one case, conversation or account."]
    if severity not in Escalation.Severity.values:
        errors["severity"] = ["Choose a severity: SEV1, SEV2 or SEV3."]
    if not summary:
        errors["summary"] = ["Say in a line what needs a person now."]
    elif len(summary) > 300:
        errors["summary"] = [f"Keep the summary to 300 characters (it has {len(summary)})."]
    if by is not None and not has_role(by, Role.SPECIALIST):
        errors["__all__"] = ["Only a Specialist can raise an escalation."]
    if errors:
        raise ValidationError(errors)
    policy = policy or EscalationPolicy.objects.filter(is_default=True).first()
    if policy is None:
        raise ValidationError(
            "No escalation policy is set up: an Admin marks one as the default on /oncall/."
        )
    first_step = policy.steps.order_by("position").first()
    if first_step is None:
        raise ValidationError(
            f"The escalation policy “{policy}” has no steps: an Admin adds them on /oncall/."
        )
    [(item, obj)] = items.items()
    with transaction.atomic():
        existing = _open_for(item, obj)
        if existing is None:
            try:
                with transaction.atomic():
                    escalation = Escalation.objects.create(
                        severity=severity,
                        summary=summary,
                        source=Escalation.Source.SLA_BREACH
                        if sla_clock is not None
                        else Escalation.Source.MANUAL,
                        sla_clock=sla_clock,
                        policy=policy,
                        raised_by=by,
                        raised_at=now,
                        next_page_at=now,
                        ack_deadline_at=now + dt.timedelta(minutes=first_step.wait_minutes),
                        **{item: obj},
                    )
            except IntegrityError:  # raised by someone else between our look and our insert
                existing = _open_for(item, obj)
                if existing is None:
                    raise
            else:
                event_add(escalation, EscalationEvent.Kind.RAISED, by, now, _raised_summary(escalation))
                transaction.on_commit(lambda: async_task(PAGE_TASK))
                return escalation, True
        what = (
            "an SLA breach" if sla_clock is not None else f"{Escalation.Severity(severity).label}: {summary}"
        )
        event_add(existing, EscalationEvent.Kind.LINKED, by, now, f"Raised again ({what})"[:300])
        return existing, False


def escalation_acknowledge(*, escalation: Escalation, by: User, now: dt.datetime | None = None) -> Escalation:
    """Someone has it: paging stops. Any Specialist may acknowledge (whoever was paged or not);
    the history records who. A second acknowledgement, or one of a resolved escalation, is
    refused with a message naming who and when."""
    now = now or timezone.now()
    if not has_role(by, Role.SPECIALIST):
        raise ValidationError("Only a Specialist can acknowledge an escalation.")
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if escalation.status != Escalation.Status.TRIGGERED:
            raise ValidationError(_already(escalation))
        _acknowledge(escalation, by, now)
        escalation.save(
            update_fields=["status", "acknowledged_by", "acknowledged_at", "next_page_at", "updated_at"]
        )
        return escalation


def escalation_resolve(
    *, escalation: Escalation, by: User, note: str = "", now: dt.datetime | None = None
) -> Escalation:
    """Close the escalation. Resolving one nobody acknowledged acknowledges it at the same moment
    (someone clearly picked it up). A resolved escalation can't be resolved again."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not has_role(by, Role.SPECIALIST):
        raise ValidationError("Only a Specialist can resolve an escalation.")
    if len(note) > 250:
        raise ValidationError({"note": [f"Keep the note to 250 characters (it has {len(note)})."]})
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if escalation.status == Escalation.Status.RESOLVED:
            raise ValidationError(_already(escalation))
        if escalation.status == Escalation.Status.TRIGGERED:
            _acknowledge(escalation, by, now)
        escalation.status, escalation.resolved_by, escalation.resolved_at = (
            Escalation.Status.RESOLVED,
            by,
            now,
        )
        escalation.save()
        event_add(
            escalation, EscalationEvent.Kind.RESOLVED, by, now, f"Resolved{': ' + note if note else ''}"
        )
        return escalation


def event_add(
    escalation: Escalation, kind: str, actor: User | None, at: dt.datetime, summary: str
) -> EscalationEvent:
    return EscalationEvent.objects.create(
        escalation=escalation, kind=kind, actor=actor, at=at, summary=summary[:300]
    )


def _acknowledge(escalation: Escalation, by: User, now: dt.datetime) -> None:
    escalation.status = Escalation.Status.ACKNOWLEDGED
    escalation.acknowledged_by, escalation.acknowledged_at, escalation.next_page_at = by, now, None
    minutes = (now - escalation.raised_at).total_seconds() / 60
    event_add(
        escalation,
        EscalationEvent.Kind.ACKNOWLEDGED,
        by,
        now,
        f"Acknowledged {minutes:.0f} min after it was raised",
    )


def _open_for(item: str, obj) -> Escalation | None:
    return (
        Escalation.objects.select_for_update()
        .filter(**{item: obj}, status__in=Escalation.OPEN_STATUSES)
        .first()
    )


def _already(escalation: Escalation) -> str:
    if escalation.status == Escalation.Status.RESOLVED:
        who, when = escalation.resolved_by, escalation.resolved_at
        return f"This escalation was already resolved by {who.display_name} at {_local(when)}."
    who, when = escalation.acknowledged_by, escalation.acknowledged_at
    return f"This escalation was already acknowledged by {who.display_name} at {_local(when)}."


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%d %b %H:%M %Z")


def _raised_summary(escalation: Escalation) -> str:
    how = "by an SLA breach" if escalation.source == Escalation.Source.SLA_BREACH else ""
    return f"Raised {escalation.get_severity_display()}{' ' + how if how else ''}: {escalation.summary}"
