"""Which SLA policy applies to a conversation or a case: the first active policy, in position
order, whose conditions all hold for the item's facts."""

from collections.abc import Sequence
from dataclasses import dataclass

from disputes.models import DisputeCase
from support.models import Conversation, RoutingDecision, SlaPolicy

# Intercom's conversation priority (2.16: none/low/medium/high/urgent; 2.15 and before:
# priority/not_priority) in the portal's priority words, so that one policy condition covers
# conversations and cases alike. No priority set reads as normal.
INTERCOM_PRIORITY = {
    "urgent": DisputeCase.Priority.URGENT,
    "high": DisputeCase.Priority.HIGH,
    "priority": DisputeCase.Priority.HIGH,
    "medium": DisputeCase.Priority.NORMAL,
    "none": DisputeCase.Priority.NORMAL,
    "not_priority": DisputeCase.Priority.NORMAL,
    "": DisputeCase.Priority.NORMAL,
    "low": DisputeCase.Priority.LOW,
}

# The conditions in the order they are checked, with the words the explain tool shows.
CONDITIONS = {
    "kinds": "kind",
    "tiers": "tier",
    "case_categories": "case category",
    "priorities": "priority",
    "venues": "venue",
}


@dataclass(frozen=True)
class SlaFacts:
    """What policies are matched on. `tier_id` and `venue` are None for a conversation with no
    known account; `case_category` is None for a conversation."""

    kind: str
    tier_id: int | None
    case_category: str | None
    priority: str
    venue: str | None
    policy_id: int | None = None  # the policy a routing rule chose: it applies while it is active


@dataclass(frozen=True)
class RoutedSla:
    """What routing chose for an item's SLA: a priority (a conversation's, as Intercom's API has
    no way to set one there; a case's is set on the case itself) and a policy."""

    priority: str
    policy_id: int | None


def routed_sla(item: str, ids: Sequence[int]) -> dict[int, RoutedSla]:
    """Routing's SLA choices for these conversations or cases (`item`), by id: one query."""
    rows = (
        RoutingDecision.objects.filter(**{f"{item}_id__in": list(ids)})
        .exclude(priority="", sla_policy=None)
        .values_list(f"{item}_id", "priority", "sla_policy_id")
    )
    return {pk: RoutedSla(priority, policy_id) for pk, priority, policy_id in rows}


def facts_for_conversation(conversation: Conversation, routed: RoutedSla | None = None) -> SlaFacts:
    """Reads `conversation.account` (select_related it for many)."""
    account = conversation.account
    priority = INTERCOM_PRIORITY.get(conversation.priority, DisputeCase.Priority.NORMAL)
    return SlaFacts(
        kind=SlaPolicy.Kind.CONVERSATION,
        tier_id=account.tier_id if account else None,
        case_category=None,
        priority=routed.priority if routed and routed.priority else priority,
        venue=account.venue if account else None,
        policy_id=routed.policy_id if routed else None,
    )


def facts_for_case(case: DisputeCase, routed: RoutedSla | None = None) -> SlaFacts:
    """Reads `case.account` (select_related it for many)."""
    return SlaFacts(
        kind=SlaPolicy.Kind.CASE,
        tier_id=case.account.tier_id,
        case_category=case.category,
        priority=case.priority,
        venue=case.venue,
        policy_id=routed.policy_id if routed else None,
    )


def policies_in_order(*, active_only: bool = True) -> list[SlaPolicy]:
    """The policies in position order with their calendars and tiers: two queries. Keep the list
    for the length of a request or a pass and hand it to policy_for / policy_explain."""
    policies = SlaPolicy.objects.select_related("calendar").prefetch_related("tiers").order_by("position")
    if active_only:
        policies = policies.filter(is_active=True)
    return list(policies)


def failed_condition(policy: SlaPolicy, facts: SlaFacts) -> str | None:
    """The first condition of `policy` that `facts` do not meet (a key of CONDITIONS), or None
    when all hold. Reads `policy.tiers` as prefetched."""
    values = {
        "kinds": facts.kind,
        "tiers": facts.tier_id,
        "case_categories": facts.case_category,
        "priorities": facts.priority,
        "venues": facts.venue,
    }
    for condition in CONDITIONS:
        if condition == "tiers":
            allowed = {tier.pk for tier in policy.tiers.all()}
        else:
            allowed = getattr(policy, condition)
        if allowed and values[condition] not in allowed:
            return condition
    return None


def policy_for(facts: SlaFacts, *, policies: Sequence[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The policy that applies: the one routing chose, else the first active policy that matches;
    None when none does (no catch-all). Without `policies` it loads them (two queries)."""
    if policies is None:
        policies = policies_in_order()
    chosen = routing_choice(facts, policies)
    if chosen is not None:
        return chosen
    for policy in policies:
        if policy.is_active and failed_condition(policy, facts) is None:
            return policy
    return None


def routing_choice(facts: SlaFacts, policies: Sequence[SlaPolicy]) -> SlaPolicy | None:
    """The active policy a routing rule chose for the item, which overrides the policies' own
    matching; None when it chose none, or the one it chose is switched off or deleted."""
    if facts.policy_id is None:
        return None
    return next((p for p in policies if p.pk == facts.policy_id and p.is_active), None)


def policy_explain(
    facts: SlaFacts, *, policies: Sequence[SlaPolicy] | None = None
) -> list[tuple[SlaPolicy, bool, str | None]]:
    """Every policy in order (inactive ones too) with whether it matches these facts and, when
    not, the condition that failed: a key of CONDITIONS, or "is_active" for an inactive policy.
    The one that applies is the first with matched True."""
    if policies is None:
        policies = policies_in_order(active_only=False)
    rows = []
    for policy in policies:
        failed = "is_active" if not policy.is_active else failed_condition(policy, facts)
        rows.append((policy, failed is None, failed))
    return rows
