"""Which SLA policy applies to a conversation or a case: the first active policy, in position
order, whose conditions all hold for the item's facts."""

from collections.abc import Sequence
from dataclasses import dataclass

from disputes.models import DisputeCase
from support.models import Conversation, SlaPolicy

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


def facts_for_conversation(conversation: Conversation) -> SlaFacts:
    """Reads `conversation.account` (select_related it for many)."""
    account = conversation.account
    return SlaFacts(
        kind=SlaPolicy.Kind.CONVERSATION,
        tier_id=account.tier_id if account else None,
        case_category=None,
        priority=INTERCOM_PRIORITY.get(conversation.priority, DisputeCase.Priority.NORMAL),
        venue=account.venue if account else None,
    )


def facts_for_case(case: DisputeCase) -> SlaFacts:
    """Reads `case.account` (select_related it for many)."""
    return SlaFacts(
        kind=SlaPolicy.Kind.CASE,
        tier_id=case.account.tier_id,
        case_category=case.category,
        priority=case.priority,
        venue=case.venue,
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
    """The policy that applies, or None when no active policy matches (no catch-all). Without
    `policies` it loads them (two queries)."""
    if policies is None:
        policies = policies_in_order()
    for policy in policies:
        if policy.is_active and failed_condition(policy, facts) is None:
            return policy
    return None


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
