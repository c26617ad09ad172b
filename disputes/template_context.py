"""A case (with its account, market, decision and citations) as the plain dictionaries response
templates read (see playbooks.rendering)."""

from django.http import Http404
from django.utils import timezone

from accounts.template_context import account_template_context
from disputes import selectors
from disputes.models import Decision, DisputeCase
from playbooks.contexts import ContextSource, register_context_source
from portal.roles import has_role


def _current_decision(case: DisputeCase) -> Decision | None:
    decisions = [d for d in case.decisions.all() if d.state != Decision.State.SUPERSEDED]
    return decisions[-1] if decisions else None


def _citation_source(citation) -> str:
    if citation.market_rule_version_id:
        return f"Market rules v{citation.market_rule_version.number}"
    version = citation.rulebook_version
    return f"Rulebook §{version.section.number} {version.section.title}"


def _when(moment) -> str:
    return f"{moment.day} {moment:%B %Y, %H:%M %Z}"


def case_template_context(case: DisputeCase) -> dict:
    decision = _current_decision(case)
    market = case.market
    return {
        "account": account_template_context(case.account),
        "case": {
            "reference": case.reference,
            "category": case.get_category_display(),
            "status": case.get_status_display(),
            "claim": case.claim,
            "requested_remedy": case.requested_remedy,
            "amount_at_stake": f"{case.amount_at_stake:,.2f}",
            "currency": case.currency,
            "resolution_due": _when(timezone.localtime(case.resolution_due)),
        },
        "market": {
            "question": market.question if market else "",
            "url": f"https://polymarket.com/event/{market.event_slug or market.slug}"
            if market and (market.event_slug or market.slug)
            else "",
            "resolved_outcome": market.resolved_outcome if market else "",
            "end_date": f"{market.end_date.day} {market.end_date:%B %Y}"
            if market and market.end_date
            else "",
        },
        "decision": {
            "outcome": decision.get_outcome_display() if decision else "",
            "rationale": decision.rationale if decision else "",
            "remedy": decision.remedy if decision else "",
        },
        "citations": [
            {"excerpt": c.excerpt, "source": _citation_source(c)}
            for c in (decision.citations.all() if decision else [])
        ],
    }


def case_for_templates(reference: str) -> DisputeCase | None:
    try:
        year, number = selectors.reference_parts(reference)
    except Http404:
        return None
    return (
        DisputeCase.objects.select_related("account__tier", "account__owner", "market")
        .prefetch_related(
            "decisions__citations__market_rule_version", "decisions__citations__rulebook_version__section"
        )
        .filter(year=year, number=number)
        .first()
    )


def _lookup(user, reference: str) -> dict | None:
    if not has_role(user, *selectors.RULE_READERS) or not selectors.CASE_REFERENCE.match(reference):
        return None
    case = case_for_templates(reference)
    return case_template_context(case) if case else None


register_context_source(
    ContextSource(
        key="case",
        label="Case",
        lookup=_lookup,
        provides=("account", "case", "market", "decision", "citations"),
        help_text="A case reference, DSP-…",
    )
)
