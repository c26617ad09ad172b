"""Decisions read across cases: related and conflicting rulings, approvals waiting, the search by
cited rule."""

from django.db.models import QuerySet

from disputes.models import (
    RuleCitation,
)


def _recorded_decisions():
    from disputes.models import Decision

    return Decision.objects.filter(state=Decision.State.RECORDED).select_related("case", "proposed_by")


def _merge_newest(*querysets, limit: int) -> list:
    """Newest-approved first across several querysets, each already ordered and limited; an
    OR of the two paths with DISTINCT would scan every recorded decision instead."""
    merged = {}
    for queryset in querysets:
        for decision in queryset:
            merged[decision.pk] = decision
    return sorted(merged.values(), key=lambda d: (d.approved_at, d.pk), reverse=True)[:limit]


def _same_rules(case, section_ids, *, limit: int, other_than: str = ""):
    """Recorded rulings (not referrals) on other cases about the same market, and on cases
    citing one of the given rulebook sections; with `other_than`, only other outcomes."""
    from disputes.models import Decision, DisputeCase

    recorded = (
        _recorded_decisions()
        .exclude(case_id=case.pk)
        .exclude(outcome__in=[Decision.Outcome.REFERRED, other_than])
        # Newest by id: the primary key walks backwards and stops at `limit`, where ordering
        # by approval time would sort every match (thousands cite a popular section).
        .order_by("-pk")
    )
    paths = []
    if case.market_id:
        # Through the market's case ids (an index), not a join the planner walks by state.
        market_cases = DisputeCase.objects.filter(market_id=case.market_id).values("pk")
        paths.append(recorded.filter(case_id__in=market_cases)[:limit])
    if section_ids:
        paths.append(
            recorded.filter(
                pk__in=RuleCitation.objects.filter(rulebook_version__section_id__in=list(section_ids)).values(
                    "decision_id"
                )
            )[:limit]
        )
    return paths


def decisions_conflicting(*, case, outcome: str, section_ids=frozenset()) -> list:
    """Recorded decisions on other cases about the same market, or citing one of the same
    rulebook sections, whose outcome differs. A referral is not a ruling, so it never conflicts."""
    from disputes.models import Decision

    if outcome == Decision.Outcome.REFERRED:
        return []
    return _merge_newest(*_same_rules(case, section_ids, limit=20, other_than=outcome), limit=20)


def related_decisions(case, *, limit: int = 20) -> list:
    """Recorded decisions on other cases about the same market or citing the rulebook sections
    this case's decisions cite: what a consistent answer has to agree with."""
    section_ids = set(
        RuleCitation.objects.filter(decision__case_id=case.pk, rulebook_version__isnull=False).values_list(
            "rulebook_version__section_id", flat=True
        )
    )
    return _merge_newest(*_same_rules(case, section_ids, limit=limit), limit=limit)


def market_outcomes(market) -> dict[str, int]:
    """How the recorded decisions on a market's cases came out: {outcome: count}."""
    from django.db.models import Count

    from disputes.models import Decision

    rows = (
        Decision.objects.filter(state=Decision.State.RECORDED, case__market_id=market.pk)
        .exclude(outcome=Decision.Outcome.REFERRED)
        .values("outcome")
        .annotate(n=Count("pk"))
    )
    return {row["outcome"]: row["n"] for row in rows}


def approvals_waiting() -> QuerySet:
    """Proposed decisions waiting for a second specialist, oldest first."""
    from disputes.models import Decision

    return (
        Decision.objects.filter(state=Decision.State.PROPOSED)
        .select_related("case__account", "case__market", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def decisions_citing(*, section=None, market=None, outcome: str = "") -> QuerySet:
    """Past decisions searched by the rule they cite: a rulebook section (any version) or a
    market's rules (any version)."""
    from disputes.models import Decision

    decisions = Decision.objects.exclude(state=Decision.State.SUPERSEDED).select_related(
        "case__account", "case__market", "proposed_by"
    )
    if section is not None:
        decisions = decisions.filter(
            pk__in=RuleCitation.objects.filter(rulebook_version__section=section).values("decision_id")
        )
    if market is not None:
        decisions = decisions.filter(
            pk__in=RuleCitation.objects.filter(market_rule_version__market=market).values("decision_id")
        )
    if outcome:
        decisions = decisions.filter(outcome=outcome)
    return decisions.order_by("-pk")
