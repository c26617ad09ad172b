"""What the routing engine reads, from the database: the rules (one query, tiers prefetched), an
item's facts (a case, a conversation) and what it knows about the people rules may choose."""

import re
from collections.abc import Iterable

from django.db.models import Count, Max, OuterRef, Subquery, Sum
from django.utils import timezone

from disputes.models import DisputeCase
from portal.availability import available, on_shift_ids
from portal.models import User
from support.models import Conversation, RoutingDecision, RoutingRule, RoutingTeam
from support.routing.engine import Item, People, RuleSpec

MAX_WORDS = 1000  # a rule's word list is cut here (a pasted dictionary must not slow routing)


def rule_words(text: str) -> tuple[str, ...]:
    words = (w.strip().lower() for w in re.split(r"[\n,]+", text or ""))
    return tuple(dict.fromkeys(w for w in words if w))[:MAX_WORDS]


_cached: tuple[tuple, list[RuleSpec]] | None = None


def rule_specs(rules: Iterable[RoutingRule] | None = None) -> list[RuleSpec]:
    """The rules in order as the engine reads them. Without `rules`, the stored ones, read again
    only when they changed: one small query tells (how many, the latest change, the people and
    teams they name, their tiers), since building 200 rules costs ~10 ms and rules rarely change."""
    global _cached
    if rules is not None:
        return _specs(rules)
    fingerprint = tuple(
        RoutingRule.objects.aggregate(
            n=Count("pk", distinct=True),
            changed=Max("updated_at"),
            people=Sum("person_id"),
            teams=Sum("team_id"),
            tiers=Count("tiers"),
        ).values()
    )
    if _cached is not None and _cached[0] == fingerprint:
        return _cached[1]
    specs = _specs(RoutingRule.objects.prefetch_related("tiers").order_by("position", "pk"))
    _cached = (fingerprint, specs)
    return specs


def _specs(rules: Iterable[RoutingRule]) -> list[RuleSpec]:
    return [
        RuleSpec(
            pk=rule.pk,
            position=rule.position,
            name=rule.name,
            is_active=rule.is_active,
            tier_ids=frozenset(t.pk for t in rule.tiers.all()),
            venues=frozenset(rule.venues or ()),
            kinds=frozenset(rule.kinds or ()),
            case_categories=frozenset(rule.case_categories or ()),
            min_amount=rule.min_amount,
            words=rule_words(rule.words),
            intercom_tags=frozenset(t.lower() for t in rule.intercom_tags or ()),
            owner_available=rule.owner_available,
            assign=rule.assign,
            team_id=rule.team_id,
            person_id=rule.person_id,
            when_unavailable=rule.when_unavailable,
            priority=rule.priority,
            sla_policy_id=rule.sla_policy_id,
            add_tags=tuple(rule.add_tags or ()),
        )
        for rule in rules
    ]


def case_item(case: DisputeCase) -> Item:
    account = case.account
    return Item(
        kind="case",
        tier_id=account.tier_id,
        venue=case.venue,
        case_category=case.category,
        amount=case.amount_at_stake,
        text=case.claim,
        owner_id=account.owner_id,
    )


def conversation_item(conversation: Conversation, first_message: str = "") -> Item:
    account = conversation.account
    return Item(
        kind="conversation",
        tier_id=account.tier_id if account else None,
        venue=account.venue if account else "",
        text=f"{conversation.title}\n{first_message}",
        intercom_tags=frozenset(str(t).lower() for t in conversation.tags or ()),
        owner_id=account.owner_id if account else None,
    )


def people_for(rules: list[RuleSpec], item: Item, at=None) -> People:
    """What the engine needs about everyone these rules could choose for the item: the owner, the
    named people and the teams' members. Four queries however many people (five with an active
    on-call rota), since each costs a round trip on PostgreSQL."""
    at = at or timezone.now()
    team_ids = {r.team_id for r in rules if r.team_id is not None}
    members: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    gone = set()
    # One row per team and member (a team without members: one row, member None).
    for team_id, gone_at, user_id in RoutingTeam.objects.filter(pk__in=team_ids).values_list(
        "pk", "gone_at", "members"
    ):
        if gone_at is not None:
            gone.add(team_id)
        if user_id is not None:
            members[team_id].append(user_id)
    candidates = {item.owner_id} | {r.person_id for r in rules} | {m for ms in members.values() for m in ms}
    candidates.discard(None)
    last = (
        RoutingDecision.objects.filter(assignee=OuterRef("pk"))
        .order_by("-decided_at")
        .values("decided_at")[:1]
    )
    users = list(
        User.objects.filter(pk__in=candidates)
        .only("pk", "is_active", "time_zone", "working_hours", "is_away", "away_until")
        .annotate(last_assigned=Subquery(last))
    )
    on_shift = on_shift_ids(at)
    return People(
        available={u.pk for u in users if available(u, at, on_shift=on_shift)},
        active={u.pk for u in users if u.is_active},
        open_items=open_items(candidates),
        last_assigned={u.pk: u.last_assigned.timestamp() for u in users if u.last_assigned is not None},
        team_members=members,
        gone_teams=gone,
    )


def open_items(user_ids: Iterable[int]) -> dict[int, int]:
    """Open conversations and open cases assigned to each person (one query)."""
    user_ids = list(user_ids)
    conversations = (
        Conversation.objects.filter(assignee_id__in=user_ids, state=Conversation.State.OPEN)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
        .order_by()
    )
    cases = (
        DisputeCase.objects.filter(assignee_id__in=user_ids, status__in=DisputeCase.OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
        .order_by()
    )
    counts: dict[int, int] = {}
    for user_id, count in conversations.union(cases, all=True):
        counts[user_id] = counts.get(user_id, 0) + count
    return counts


UNROUTED_SHOWN = 20


def unrouted(limit: int = UNROUTED_SHOWN) -> tuple[list[RoutingDecision], int]:
    """Open items routing gave to nobody (no rule matched, or a team with nobody available) that
    nobody has taken since: the queue shows them first, oldest first. Two queries."""
    from django.db.models import Q

    waiting = (
        RoutingDecision.objects.filter(assignee__isnull=True)
        .filter(
            Q(
                conversation__state=Conversation.State.OPEN,
                conversation__assignee__isnull=True,
                conversation__admin_assignee_id__in=("", "0"),
            )
            | Q(case__status__in=DisputeCase.OPEN_STATUSES, case__assignee__isnull=True)
        )
        .select_related("conversation__account", "case__account", "team")
        .order_by("decided_at", "pk")
    )
    from support.selectors import conversation_url

    shown = list(waiting[:limit])
    for decision in shown:
        decision.conversation_url = (
            conversation_url(decision.conversation.intercom_id) if decision.conversation_id else ""
        )
    return shown, waiting.count() if len(shown) == limit else len(shown)
