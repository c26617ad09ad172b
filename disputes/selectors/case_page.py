"""Everything a case page shows, read in one place: the case file (shared with the printable
case file) and, for the page, what this person may do there."""

from django.conf import settings
from django.utils import timezone

from disputes.models import Decision, DisputeCase
from disputes.selectors.decisions import related_decisions
from disputes.selectors.replies import case_history
from disputes.selectors.roles import MARKET_WRITERS
from playbooks.contexts import specialist_context
from playbooks.drafts import chosen_template, draft_from, offered_templates
from portal.models import User
from portal.page_panels import page_panels
from portal.roles import has_role

# Panels other apps add to a case page (portal.page_panels), shown in the Claim card's facts list:
# each renders <dt>/<dd> pairs about the case.
CASE_FACTS_PANELS = "disputes.case_facts"


def case_file(*, case: DisputeCase) -> dict:
    """What the case page and the printable case file both show: decisions with their citations,
    evidence, wallet snapshots with their rows, the governing rule texts, related decisions on
    other cases and the history. A fixed number of queries however much the case holds."""
    # The case services import these selectors, so they are imported when first used.
    from disputes.services.cases import rules_changed_since_filing

    decisions = list(
        case.decisions.select_related("proposed_by", "approved_by", "governing_version").prefetch_related(
            "citations__market_rule_version", "citations__rulebook_version__section"
        )
    )
    snapshots = list(
        case.wallet_snapshots.select_related("fetched_by").prefetch_related("rows").order_by("fetched_at")
    )
    related = related_decisions(case)
    current = next((d for d in reversed(decisions) if d.state != Decision.State.SUPERSEDED), None)
    return {
        # The service refuses a decision while one waits for approval, so the page offers none.
        "waiting_proposal": current if current and current.state == Decision.State.PROPOSED else None,
        "case": case,
        "events": case_history(case),
        "decisions": decisions,
        "evidence": list(case.evidence.select_related("added_by")),
        "snapshots": snapshots,
        "governing_texts": governing_texts(case, decisions),
        "related_decisions": related,
        "related_disagree": bool(current and any(d.outcome != current.outcome for d in related))
        or len({d.outcome for d in related}) > 1,
        "rules_changed": rules_changed_since_filing(case),
        "now": timezone.now(),
    }


def case_page(
    *, case: DisputeCase, user: User, reply_template: str | None = None, draft: bool = True
) -> dict:
    """The case page apart from its forms: the case file, whether `user` may change the case, the
    account's wallets and, for someone who may, the response templates offered for the case's
    category with the one chosen (`reply_template`, an id) and, with `draft`, its draft filled
    from the case; and the panels apps above disputes add to the page."""
    can_write = has_role(user, *MARKET_WRITERS)
    return {
        **case_file(case=case),
        "can_write": can_write,
        **(
            reply_drafting(case=case, user=user, template_id=reply_template, draft=draft) if can_write else {}
        ),
        "snapshot_allowed": case.category != DisputeCase.Category.MARKET_RESOLUTION,
        "wallets": list(case.account.wallets.all()),
        "four_eyes_threshold": settings.DISPUTE_FOUR_EYES_THRESHOLD,
        "facts_panels": page_panels(CASE_FACTS_PANELS, obj=case, user=user),
    }


def reply_drafting(*, case: DisputeCase, user: User, template_id: str | None, draft: bool = True) -> dict:
    """The dispute-response templates offered for the case's category, the one chosen (None when
    `template_id` names none of them) and, with `draft`, its draft filled from the case."""
    offered = offered_templates(case.category)
    chosen = chosen_template(case.category, template_id)
    reply_draft = None
    if chosen is not None and draft:
        # disputes.template_context reads these selectors.
        from disputes.template_context import case_for_templates, case_template_context

        context = {**specialist_context(user), **case_template_context(case_for_templates(case.reference))}
        reply_draft = draft_from(chosen, context)
    return {"reply_templates": offered, "reply_chosen": chosen, "reply_draft": reply_draft}


def governing_texts(case: DisputeCase, decisions: list[Decision]) -> list[dict]:
    """The rule texts this case rests on, each with the excerpts cited from it highlighted:
    the market's rules at filing (and now, when they changed) and every cited version."""
    from disputes.highlight import highlighted
    from disputes.services.cases import rules_changed_since_filing

    cited = {}
    for decision in decisions:
        if decision.state == Decision.State.SUPERSEDED:
            continue
        for citation in decision.citations.all():
            version = citation.market_rule_version or citation.rulebook_version
            key = ("m" if citation.market_rule_version_id else "r", version.pk)
            cited.setdefault(key, (version, []))[1].append(citation.excerpt)
    texts = []
    market_versions = [case.rule_version] if case.rule_version_id else []
    if rules_changed_since_filing(case):
        market_versions.append(case.market.current_version)
    for version in market_versions:
        excerpts = cited.pop(("m", version.pk), (version, []))[1]
        label = "in force at filing" if version.pk == case.rule_version_id else "in force now"
        texts.append(
            {
                "title": f"Market rules v{version.number}",
                "note": label,
                "html": highlighted(version.full_text, excerpts),
                "cited": bool(excerpts),
            }
        )
    for (kind, _pk), (version, excerpts) in cited.items():
        if kind == "m":
            title, text = f"Market rules v{version.number}", version.full_text
        else:
            title = f"Rulebook §{version.section.number} {version.section.title} v{version.number}"
            text = version.body
        texts.append({"title": title, "note": "cited", "html": highlighted(text, excerpts), "cited": True})
    return texts
