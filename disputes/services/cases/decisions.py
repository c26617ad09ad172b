"""Decisions that must cite the rule text they rest on: proposing, approving (four eyes),
amending and recording them, and naming the governing rule version when the rules changed."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from disputes.models import (
    CaseEvent,
    Decision,
    DisputeCase,
    MarketRuleVersion,
    RulebookSectionVersion,
    RuleCitation,
)
from disputes.selectors import decisions_conflicting
from disputes.services.cases.workflow import (
    Status,
    account_open_cases_changed,
    account_timeline_add,
    case_event_add,
    case_lock,
    require_specialist,
)
from disputes.signals import case_changed
from integrations.models import SyncJob
from integrations.outbox import outbox_record
from portal.models import User


@dataclass(frozen=True)
class CitationInput:
    excerpt: str
    market_rule_version: MarketRuleVersion | None = None
    rulebook_version: RulebookSectionVersion | None = None


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
    require_specialist(by, "decide a case")
    case = case_lock(case, expected_revision)
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
        case_event_add(
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


def _record(case: DisputeCase, decision: Decision, by: User, *, amended: bool) -> None:
    if decision.supersedes is not None:
        Decision.objects.filter(pk=decision.supersedes_id).update(state=Decision.State.SUPERSEDED)
    before = case.status
    case.status = Status.DECIDED
    case.decided_at = timezone.now()
    case.save(update_fields=["status", "decided_at", "updated_at"])
    kind = CaseEvent.Kind.DECISION_AMENDED if amended else CaseEvent.Kind.DECISION_RECORDED
    case_event_add(
        case,
        kind,
        by,
        f"Decision {'amended' if amended else 'recorded'}: {decision.get_outcome_display()}",
        before={"status": before},
        after={"status": Status.DECIDED, "decision": decision.pk, "outcome": decision.outcome},
        note=decision.amendment_reason,
    )
    account_timeline_add(
        case,
        by,
        f"Dispute {case.reference} {'amended' if amended else 'decided'}: {decision.get_outcome_display()}",
    )
    outbox_record(
        kind=SyncJob.Kind.CONTACT_NOTE,
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
    account_open_cases_changed(case)
    case_changed.send(sender=DisputeCase, case=case, what="decided")


@transaction.atomic
def decision_approve(*, decision: Decision, by: User) -> Decision:
    """Approve a proposed decision (four eyes): another Specialist than the proposer."""
    require_specialist(by, "approve a decision")
    decision = Decision.objects.select_for_update().select_related("case").get(pk=decision.pk)
    if decision.state != Decision.State.PROPOSED:
        raise ValidationError("This decision is not waiting for approval.")
    if decision.proposed_by_id == by.pk:
        raise ValidationError("Someone other than the proposer must approve a decision.")
    decision.state = Decision.State.RECORDED
    decision.approved_by = by
    decision.approved_at = timezone.now()
    decision.save(update_fields=["state", "approved_by", "approved_at"])
    case = case_lock(decision.case, None)
    case_event_add(case, CaseEvent.Kind.DECISION_APPROVED, by, f"Decision approved by {by.display_name}")
    _record(case, decision, by, amended=decision.supersedes_id is not None)
    case.revision += 1
    case.save(update_fields=["revision", "updated_at"])
    return decision
