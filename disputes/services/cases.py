"""Dispute case files: filing with a safe reference, the status workflow, and decisions that
must cite the rule text they rest on."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Account, AccountEvent
from accounts.services import account_event_record, health_refresh_soon
from disputes.models import (
    CaseCounter,
    CaseEvent,
    Decision,
    DisputeCase,
    Market,
    MarketRuleVersion,
    RulebookSectionVersion,
    RuleCitation,
)
from disputes.selectors import REPLY_JOB_KIND, decisions_conflicting, reply_job_key
from integrations.outbox import outbox_record
from portal.models import User
from portal.roles import Role, user_roles

Status = DisputeCase.Status
# Which status may follow which. Reopening (from decided or closed) needs a reason.
TRANSITIONS = {
    Status.NEW: {Status.INVESTIGATING, Status.WAITING_ON_USER, Status.ESCALATED, Status.CLOSED},
    Status.INVESTIGATING: {Status.WAITING_ON_USER, Status.ESCALATED, Status.CLOSED},
    Status.WAITING_ON_USER: {Status.INVESTIGATING, Status.ESCALATED, Status.CLOSED},
    Status.ESCALATED: {Status.INVESTIGATING, Status.WAITING_ON_USER, Status.CLOSED},
    Status.DECIDED: {Status.CLOSED, Status.INVESTIGATING},
    Status.CLOSED: {Status.INVESTIGATING},
}
REOPEN_FROM = {Status.DECIDED, Status.CLOSED}
# Default targets until the SLA issue owns them: first response by tier rank (hours),
# resolution by category (hours).
FIRST_RESPONSE_HOURS = {1: 1, 2: 4, 3: 8}
RESOLUTION_HOURS = {
    DisputeCase.Category.MARKET_RESOLUTION: 72,
    DisputeCase.Category.ORDER_EXECUTION: 48,
    DisputeCase.Category.PLATFORM_MECHANICS: 48,
}


@dataclass(frozen=True)
class CitationInput:
    excerpt: str
    market_rule_version: MarketRuleVersion | None = None
    rulebook_version: RulebookSectionVersion | None = None


CONVERSATION_ID = re.compile(r"[0-9]{1,40}")  # not \d: it also matches other scripts' digits


def _conversation_id(value: str) -> str:
    """An Intercom conversation id as typed (spaces and a leading # allowed), or a
    ValidationError: Intercom's ids are digits, and the id ends up in an API path."""
    value = (value or "").strip().removeprefix("#").strip()
    if value and not CONVERSATION_ID.fullmatch(value):
        raise ValidationError(
            {
                "intercom_conversation_id": "An Intercom conversation id is digits only, as in the inbox's address."
            }
        )
    return value


def _event(case, kind, by, summary, **fields) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=by, at=timezone.now(), summary=summary[:300], **fields
    )


def _next_reference(year: int) -> tuple[int, str]:
    """Take the next number of the year under a row lock (created on first use)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                CaseCounter.objects.get_or_create(year=year)
            break
        except IntegrityError:  # someone else created the year's counter first
            continue
    counter = CaseCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"DSP-{year}-{counter.last_number:05d}"


def _require_specialist(user: User, what: str) -> None:
    if Role.SPECIALIST not in user_roles(user):
        raise ValidationError(f"Only a Specialist can {what}.")


@transaction.atomic
def dispute_file(
    *,
    by: User,
    account: Account,
    category: str,
    claim: str,
    requested_remedy: str = "",
    amount_at_stake: Decimal = Decimal("0"),
    market: Market | None = None,
    priority: str = DisputeCase.Priority.NORMAL,
    assignee: User | None = None,
    intercom_conversation_id: str = "",
) -> DisputeCase:
    """File a case with reference DSP-<year>-<number>, pinned to the market's rules in force
    now. Raises ValidationError for a missing market on a resolution dispute, an empty claim or
    a negative amount; writes nothing then."""
    errors = {}
    if category not in DisputeCase.Category.values:
        errors["category"] = "Choose what the dispute is about."
    if category == DisputeCase.Category.MARKET_RESOLUTION and market is None:
        errors["market"] = "A market-resolution dispute needs its market (import it first)."
    if market is not None and market.current_version_id is None:
        errors["market"] = "This market has no rules recorded yet."
    if not (claim or "").strip():
        errors["claim"] = "Write down what the user claims, in their words."
    if amount_at_stake is None or amount_at_stake < 0:
        errors["amount_at_stake"] = "The amount at stake can’t be negative."
    try:
        intercom_conversation_id = _conversation_id(intercom_conversation_id)
        if intercom_conversation_id:
            _conversation_of_account(intercom_conversation_id, account)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    number, reference = _next_reference(now.year)
    case = DisputeCase.objects.create(
        reference=reference,
        year=now.year,
        number=number,
        account=account,
        category=category,
        market=market,
        rule_version=market.current_version if market else None,
        venue=market.venue if market else account.venue,
        claim=claim.strip(),
        requested_remedy=(requested_remedy or "").strip(),
        amount_at_stake=amount_at_stake,
        priority=priority,
        assignee=assignee,
        intercom_conversation_id=intercom_conversation_id,
        first_response_due=now + dt.timedelta(hours=FIRST_RESPONSE_HOURS.get(account.tier.rank, 8)),
        resolution_due=now + dt.timedelta(hours=RESOLUTION_HOURS[category]),
        filed_by=by,
    )
    _event(case, CaseEvent.Kind.FILED, by, f"Filed by {by.username}", after={"status": case.status})
    _account_timeline(case, by, f"Dispute {reference} filed: {case.get_category_display().lower()}")
    _account_changed(case)
    return case


def _lock(case: DisputeCase, expected_revision: int | None) -> DisputeCase:
    locked = DisputeCase.objects.select_for_update(of=("self",)).select_related("account").get(pk=case.pk)
    if expected_revision is not None and locked.revision != expected_revision:
        raise ValidationError(
            "Someone else changed this case while you had it open. Nothing was saved: reload the "
            "case to see their change, then try again."
        )
    return locked


@transaction.atomic
def dispute_transition(
    *, case: DisputeCase, by: User, to: str, reason: str = "", expected_revision: int | None = None
) -> DisputeCase:
    """Move a case along the workflow. Illegal moves, reopening without a reason and changes
    made against an out-of-date page are refused with a message; nothing is saved then.
    A case becomes `decided` only by recording a decision."""
    case = _lock(case, expected_revision)
    if to == Status.DECIDED:
        raise ValidationError("A case is decided by recording a decision with its rule citations.")
    if to not in TRANSITIONS.get(case.status, set()):
        raise ValidationError(
            f"A case that is {case.get_status_display().lower()} can’t move to “{Status(to).label.lower()}”."
            if to in Status.values
            else f"“{to}” is not a case status."
        )
    reopening = case.status in REOPEN_FROM and to == Status.INVESTIGATING
    if reopening and not (reason or "").strip():
        raise ValidationError("Say why the case is reopened; the reason is kept in its history.")
    before = case.status
    case.status = to
    case.closed_at = timezone.now() if to == Status.CLOSED else None
    case.revision += 1
    case.save(update_fields=["status", "closed_at", "revision", "updated_at"])
    summary = f"{'Reopened' if reopening else 'Status'}: {Status(before).label} → {Status(to).label}"
    _event(
        case,
        CaseEvent.Kind.STATUS,
        by,
        summary,
        before={"status": before},
        after={"status": to},
        note=reason.strip(),
    )
    return case


QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "\u00a0": " "})


def normalise_text(text: str) -> str:
    """Compare excerpts by their words: white space collapsed, curly quotes made straight."""
    return re.sub(r"\s+", " ", (text or "").translate(QUOTES)).strip()


def _validate_citations(case: DisputeCase, citations: list[CitationInput]) -> None:
    if not citations:
        raise ValidationError({"citations": "A decision must cite at least one rule it rests on."})
    problems = []
    for index, citation in enumerate(citations, start=1):
        version = citation.market_rule_version or citation.rulebook_version
        if (citation.market_rule_version is None) == (citation.rulebook_version is None):
            problems.append(f"Citation {index}: choose either a market rule version or a rulebook section.")
            continue
        if citation.market_rule_version and citation.market_rule_version.market_id != case.market_id:
            problems.append(f"Citation {index}: that rule version belongs to another market.")
            continue
        text = version.full_text if citation.market_rule_version else version.body
        excerpt = normalise_text(citation.excerpt)
        if len(excerpt) < 10:
            problems.append(f"Citation {index}: quote at least a full phrase of the rule.")
        elif excerpt not in normalise_text(text):
            problems.append(f"Citation {index}: the excerpt does not appear in that version’s text.")
    if problems:
        raise ValidationError({"citations": problems})


@transaction.atomic
def dispute_decide(
    *,
    case: DisputeCase,
    by: User,
    outcome: str,
    rationale: str,
    remedy: str = "",
    citations: list[CitationInput],
    governing_reason: str = "",
    governing_version: MarketRuleVersion | None = None,
    amendment_reason: str = "",
    consistency_note: str = "",
    expected_revision: int | None = None,
) -> Decision:
    """Record a decision grounded in cited rule text. Above the four-eyes threshold it is a
    proposal until another Specialist approves it. A case already decided is amended only with a
    reason, and the earlier decision is kept as superseded. When the market's rules changed since
    filing, the decision names the version that governs and why; when earlier decisions on the
    same market or rulebook section reached another outcome, it says why this one differs."""
    _require_specialist(by, "decide a case")
    case = _lock(case, expected_revision)
    errors = {}
    if outcome not in Decision.Outcome.values:
        errors["outcome"] = "Choose an outcome."
    if not (rationale or "").strip():
        errors["rationale"] = "Explain the decision; the user will read it."
    current = case.decisions.exclude(state=Decision.State.SUPERSEDED).order_by("-proposed_at").first()
    if current is not None and current.state == Decision.State.PROPOSED:
        errors["outcome"] = "A proposal already waits for approval on this case."
    if current is not None and current.state == Decision.State.RECORDED and not amendment_reason.strip():
        errors["amendment_reason"] = "This case is decided; say why the decision is amended."
    if case.status == Status.CLOSED:
        errors["outcome"] = "Reopen the case before deciding it again."
    errors.update(_governing_errors(case, governing_version, governing_reason))
    if errors:
        raise ValidationError(errors)
    _validate_citations(case, citations)
    conflicts = decisions_conflicting(
        case=case,
        outcome=outcome,
        section_ids={c.rulebook_version.section_id for c in citations if c.rulebook_version},
    )
    if conflicts and not (consistency_note or "").strip():
        references = sorted({d.case.reference for d in conflicts})[:10]
        cases = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("disputes:case_detail", args=[ref]), ref) for ref in references),
        )
        raise ValidationError(
            {
                "consistency_note": format_html(
                    "Earlier decisions on the same market or rulebook section reached another outcome "
                    "({}). Read them, then say why this case differs.",
                    cases,
                )
            }
        )
    now = timezone.now()
    needs_approval = case.amount_at_stake > settings.DISPUTE_FOUR_EYES_THRESHOLD
    decision = Decision.objects.create(
        case=case,
        outcome=outcome,
        rationale=rationale.strip(),
        remedy=(remedy or "").strip(),
        governing_reason=(governing_reason or "").strip(),
        governing_version=governing_version if case.market_id else None,
        consistency_note=(consistency_note or "").strip() if conflicts else "",
        state=Decision.State.PROPOSED if needs_approval else Decision.State.RECORDED,
        proposed_by=by,
        proposed_at=now,
        approved_by=None if needs_approval else by,
        approved_at=None if needs_approval else now,
        supersedes=current if current is not None and current.state == Decision.State.RECORDED else None,
        amendment_reason=(amendment_reason or "").strip(),
    )
    RuleCitation.objects.bulk_create(
        RuleCitation(
            decision=decision,
            market_rule_version=c.market_rule_version,
            rulebook_version=c.rulebook_version,
            excerpt=c.excerpt.strip(),
        )
        for c in citations
    )
    if needs_approval:
        _event(
            case, CaseEvent.Kind.DECISION_PROPOSED, by, f"Decision proposed: {decision.get_outcome_display()}"
        )
    else:
        _record(case, decision, by, amended=decision.supersedes is not None)
    case.revision += 1
    case.save(update_fields=["revision", "updated_at"])
    return decision


def rules_changed_since_filing(case: DisputeCase) -> bool:
    return bool(
        case.market_id and case.rule_version_id and case.rule_version_id != case.market.current_version_id
    )


def _governing_errors(case, governing_version, governing_reason) -> dict:
    if governing_version is not None and governing_version.market_id != case.market_id:
        return {"governing_version": "That rule version belongs to another market."}
    if not rules_changed_since_filing(case):
        return {}
    errors = {}
    if governing_version is None:
        errors["governing_version"] = (
            "The market’s rules changed since this case was filed: choose the version that governs."
        )
    if not (governing_reason or "").strip():
        errors["governing_reason"] = "Say why that version governs; the reason is kept with the decision."
    return errors


def _account_timeline(case: DisputeCase, by: User, summary: str) -> None:
    """Cases show on the account's timeline, linked to the case file."""
    account_event_record(
        account_id=case.account_id,
        kind=AccountEvent.Kind.DISPUTE,
        actor=by,
        summary=summary,
        details={"case": case.reference, "url": reverse("disputes:case_detail", args=[case.reference])},
    )


def _account_changed(case: DisputeCase) -> None:
    """Open-case counts feed the account's health and its Intercom contact."""
    open_count = DisputeCase.objects.open().filter(account_id=case.account_id).count()
    outbox_record(
        kind="contact.attributes",
        key=f"account:{case.account_id}:disputes",
        payload={
            "external_id": case.account.external_id,
            "custom_attributes": {"advanced_open_disputes": open_count},
        },
    )
    health_refresh_soon(account_ids=[case.account_id])


def _record(case: DisputeCase, decision: Decision, by: User, *, amended: bool) -> None:
    if decision.supersedes is not None:
        Decision.objects.filter(pk=decision.supersedes_id).update(state=Decision.State.SUPERSEDED)
    before = case.status
    case.status = Status.DECIDED
    case.decided_at = timezone.now()
    case.save(update_fields=["status", "decided_at", "updated_at"])
    kind = CaseEvent.Kind.DECISION_AMENDED if amended else CaseEvent.Kind.DECISION_RECORDED
    _event(
        case,
        kind,
        by,
        f"Decision {'amended' if amended else 'recorded'}: {decision.get_outcome_display()}",
        before={"status": before},
        after={"status": Status.DECIDED, "decision": decision.pk, "outcome": decision.outcome},
        note=decision.amendment_reason,
    )
    _account_timeline(
        case,
        by,
        f"Dispute {case.reference} {'amended' if amended else 'decided'}: {decision.get_outcome_display()}",
    )
    outbox_record(
        kind="contact.note",
        key=f"decision:{decision.pk}",
        payload={
            "external_id": case.account.external_id,
            "author_id": by.pk,
            "author_email": by.email,
            "body": f"{case.reference} decided: {decision.get_outcome_display()}. {decision.rationale}"[
                :2000
            ],
        },
    )
    _account_changed(case)


@transaction.atomic
def decision_approve(*, decision: Decision, by: User) -> Decision:
    """Approve a proposed decision (four eyes): another Specialist than the proposer."""
    _require_specialist(by, "approve a decision")
    decision = Decision.objects.select_for_update().select_related("case").get(pk=decision.pk)
    if decision.state != Decision.State.PROPOSED:
        raise ValidationError("This decision is not waiting for approval.")
    if decision.proposed_by_id == by.pk:
        raise ValidationError("Someone other than the proposer must approve a decision.")
    decision.state = Decision.State.RECORDED
    decision.approved_by = by
    decision.approved_at = timezone.now()
    decision.save(update_fields=["state", "approved_by", "approved_at"])
    case = _lock(decision.case, None)
    _event(case, CaseEvent.Kind.DECISION_APPROVED, by, f"Decision approved by {by.username}")
    _record(case, decision, by, amended=decision.supersedes_id is not None)
    case.revision += 1
    case.save(update_fields=["revision", "updated_at"])
    return decision


def _conversation_of_account(conversation_id: str, account: Account) -> None:
    """A mistyped id would send this case's replies to another user: when the mirror knows the
    conversation, it must be with this account (or with no known account)."""
    from support.models import Conversation

    other = (
        Conversation.objects.filter(intercom_id=conversation_id)
        .exclude(account=None)
        .exclude(account=account)
        .values_list("account__display_name", flat=True)
        .first()
    )
    if other is not None:
        raise ValidationError(
            {
                "intercom_conversation_id": f"Conversation {conversation_id} is with {other}, not with {account.display_name}."
            }
        )


@transaction.atomic
def case_conversation_link(*, case: DisputeCase, by: User, conversation_id: str) -> bool:
    """Link the case to the user's Intercom conversation (or unlink it with an empty id), so
    its page shows the conversation and replies can be sent there. Returns whether it changed."""
    conversation_id = _conversation_id(conversation_id)
    _conversation_of_account(conversation_id, case.account)
    case = DisputeCase.objects.select_for_update().get(pk=case.pk)
    before = case.intercom_conversation_id
    if conversation_id == before:
        return False
    case.intercom_conversation_id = conversation_id
    case.save(update_fields=["intercom_conversation_id", "updated_at"])
    summary = (
        f"Linked to Intercom conversation {conversation_id}"
        if conversation_id
        else f"Unlinked from Intercom conversation {before}"
    )
    _event(
        case,
        CaseEvent.Kind.UPDATED,
        by,
        summary,
        before={"intercom_conversation_id": before},
        after={"intercom_conversation_id": conversation_id},
    )
    return True


@transaction.atomic
def case_note_add(*, case: DisputeCase, by: User, text: str) -> CaseEvent:
    """An internal note in the case's history (never shown to the user; never editable)."""
    if not (text or "").strip():
        raise ValidationError({"text": "Write the note."})
    return _event(case, CaseEvent.Kind.NOTE, by, f"Note by {by.username}", note=text.strip()[:10_000])


def _locked_cases(case_ids) -> list[DisputeCase]:
    ids = sorted({int(pk) for pk in case_ids})
    if not ids:
        raise ValidationError("Select at least one case.")
    if len(ids) > MAX_BULK:
        raise ValidationError(f"Select at most {MAX_BULK} cases at a time.")
    # Locked in id order, so two bulk changes over overlapping cases cannot deadlock.
    cases = list(
        DisputeCase.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(cases) != len(ids):
        raise ValidationError("Some of the selected cases no longer exist; reload the page.")
    return cases


MAX_BULK = 500


@transaction.atomic
def cases_bulk_assign(*, case_ids, by: User, assignee: User | None) -> int:
    """Assign many cases at once (one event each). Returns how many changed."""
    _require_specialist(by, "assign cases")
    changed = 0
    for case in _locked_cases(case_ids):
        if case.assignee_id == (assignee.pk if assignee else None):
            continue
        before = case.assignee.username if case.assignee_id else None
        case.assignee = assignee
        case.revision += 1
        case.save(update_fields=["assignee", "revision", "updated_at"])
        _event(
            case,
            CaseEvent.Kind.ASSIGNED,
            by,
            f"Assigned to {assignee.username}" if assignee else "Unassigned",
            before={"assignee": before},
            after={"assignee": assignee.username if assignee else None},
        )
        changed += 1
    return changed


@transaction.atomic
def cases_bulk_transition(*, case_ids, by: User, to: str, reason: str = "") -> int:
    """Move many cases to one status. All or nothing: when any selected case can't make the
    move, nothing changes and the message names those cases."""
    _require_specialist(by, "change the status of cases")
    cases = _locked_cases(case_ids)
    if to == Status.DECIDED or to not in Status.values:
        raise ValidationError("Cases are decided one by one, by recording a decision with citations.")
    stuck = [c.reference for c in cases if c.status != to and to not in TRANSITIONS.get(c.status, set())]
    if stuck:
        raise ValidationError(
            f"{len(stuck)} of the selected cases can’t move to “{Status(to).label.lower()}”: "
            f"{', '.join(stuck[:10])}{'…' if len(stuck) > 10 else ''}. Nothing was changed."
        )
    if any(c.status in REOPEN_FROM and to == Status.INVESTIGATING for c in cases) and not reason.strip():
        raise ValidationError("Say why the cases are reopened; the reason is kept in each history.")
    changed = 0
    for case in cases:
        if case.status == to:
            continue
        dispute_transition(case=case, by=by, to=to, reason=reason)
        changed += 1
    return changed


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
            kind=REPLY_JOB_KIND,
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
    return _event(
        case,
        CaseEvent.Kind.REPLY,
        by,
        summary,
        after={"template": template.pk, "revision": draft.revision.number, "use": use.pk, "sent": send},
        note=(f"Subject: {use.rendered_subject}\n\n" if use.rendered_subject else "") + use.rendered_body,
    )
