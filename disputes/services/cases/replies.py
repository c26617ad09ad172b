"""Replies to the user drafted from response templates, kept in the case's history and sent to
its Intercom conversation through the outbox."""

from django.core.exceptions import ValidationError
from django.db import transaction

from disputes.models import CaseEvent, DisputeCase
from disputes.selectors import reply_job_key
from disputes.services.cases.workflow import case_event_add
from disputes.signals import case_changed
from integrations.models import SyncJob
from integrations.outbox import outbox_record
from portal.models import User


@transaction.atomic
def case_reply_record(
    *, case: DisputeCase, by: User, template, subject: str, body: str, send: bool = False
) -> CaseEvent:
    """Keep the reply a specialist prepared from a response template: the text they send and the
    template version it was drafted from (re-rendered here, never taken from the page). With
    `send`, the reply also goes to the user in the case's Intercom conversation, through the
    outbox (so a failure is retried and shown on the sync page, never lost)."""
    if send and not case.intercom_conversation_id:
        raise ValidationError(
            "This case is not linked to an Intercom conversation, so the reply can't be sent from "
            "here. Link the conversation on the case, or keep the reply in the history only."
        )
    from disputes.template_context import case_for_templates, case_template_context
    from playbooks.contexts import specialist_context
    from playbooks.drafts import draft_from
    from playbooks.services import template_use_record

    draft = draft_from(
        template, {**specialist_context(by), **case_template_context(case_for_templates(case.reference))}
    )
    if draft.problems:
        raise ValidationError({"body": list(draft.problems)})
    use = template_use_record(
        revision=draft.revision,
        by=by,
        subject_kind="dispute_case",
        subject_ref=case.reference,
        drafted_body=draft.body,
        used_body=body,
        used_subject=subject,
    )
    if send:
        outbox_record(
            kind=SyncJob.Kind.CONVERSATION_REPLY,
            key=reply_job_key(use.pk),
            payload={
                "conversation_id": case.intercom_conversation_id,
                "body": use.rendered_body,
                "author_id": by.pk,
                "author_email": by.email,
                "external_id": case.account.external_id,  # keeps it in order with the contact's jobs
            },
        )
    origin = f"from “{template.name}” r{draft.revision.number}{' (edited)' if use.edited else ''}"
    summary = (
        f"Reply queued for Intercom conversation {case.intercom_conversation_id} {origin}"
        if send
        else f"Reply prepared {origin}"
    )
    event = case_event_add(
        case,
        CaseEvent.Kind.REPLY,
        by,
        summary,
        after={"template": template.pk, "revision": draft.revision.number, "use": use.pk, "sent": send},
        note=(f"Subject: {use.rendered_subject}\n\n" if use.rendered_subject else "") + use.rendered_body,
    )
    if send and case.first_responded_at is None:  # the first reply the user sees
        case.first_responded_at = event.at
        DisputeCase.objects.filter(pk=case.pk, first_responded_at__isnull=True).update(
            first_responded_at=event.at
        )
    case_changed.send(sender=DisputeCase, case=case, what="reply")
    return event
