"""What the routing engine reads, from the database: the rules (one query, tiers prefetched), an
item's facts (a case, a conversation) and what it knows about the people rules may choose."""

import datetime as dt
import re
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from disputes.models import DisputeCase
from portal.availability import available, on_shift_ids
from portal.models import User
from support.models import Conversation, RoutingDecision, RoutingRule, RoutingTeam
from support.routing.engine import Item, People, RuleSpec

MAX_WORDS = 1000  # a rule's word list is cut here (a pasted dictionary must not slow routing)


def typed_words(text: str) -> tuple[str, ...]:
    """A rule's words as typed (one per line or comma-separated), lowercased, each once."""
    words = (w.strip().lower() for w in re.split(r"[\n,]+", text or ""))
    return tuple(dict.fromkeys(w for w in words if w))


def rule_words(text: str) -> tuple[str, ...]:
    return typed_words(text)[:MAX_WORDS]


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
    named people and the teams' members. Three queries however many people (four with an active
    on-call rota), since each costs a round trip on PostgreSQL; their load is read only when a
    team's member is chosen (`load_of`, one more)."""
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
    # Plain rows, not model instances: 50 people built as Users cost ~1 ms in signals alone.
    users = [
        _Person(*row)
        for row in User.objects.filter(pk__in=candidates).values_list("pk", *_Person._fields[1:])
    ]
    on_shift = on_shift_ids(at)
    return People(
        available={u.pk for u in users if available(u, at, on_shift=on_shift)},
        active={u.pk for u in users if u.is_active},
        team_members=members,
        gone_teams=gone,
        load_of=load_of,
    )


class _Person(NamedTuple):
    """What availability needs of a person (`available` reads these attributes)."""

    pk: int
    is_active: bool
    time_zone: str
    working_hours: list
    is_away: bool
    away_until: dt.datetime | None


def load_of(user_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Each person's open items (conversations + cases) and their latest routed item (its decision's
    id, which grows with time: ties go to whoever waited longest), in one query.

    Written as SQL: this runs for every team choice, and building and compiling it through the ORM
    (three correlated subqueries) cost 1.8 ms of a 5 ms budget, ten times the query itself."""
    if not user_ids:
        return {}, {}
    table = {model: model._meta.db_table for model in (User, Conversation, DisputeCase, RoutingDecision)}
    open_statuses = list(DisputeCase.OPEN_STATUSES)
    # Only table names and placeholders go into the text; every value is a parameter.
    sql = (
        f"SELECT u.id,"  # noqa: S608
        f" (SELECT COUNT(*) FROM {table[Conversation]} c WHERE c.assignee_id = u.id AND c.state = %s),"
        f" (SELECT COUNT(*) FROM {table[DisputeCase]} d WHERE d.assignee_id = u.id"
        f"  AND d.status IN ({', '.join(['%s'] * len(open_statuses))})),"
        f" (SELECT r.id FROM {table[RoutingDecision]} r WHERE r.assignee_id = u.id"
        f"  ORDER BY r.decided_at DESC, r.id DESC LIMIT 1)"
        f" FROM {table[User]} u WHERE u.id IN ({', '.join(['%s'] * len(user_ids))})"
    )
    open_items, last_assigned = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [Conversation.State.OPEN.value, *open_statuses, *user_ids])
        for pk, conversations, cases, last in cursor.fetchall():
            open_items[pk] = conversations + cases
            if last is not None:
                last_assigned[pk] = last
    return open_items, last_assigned


UNROUTED_SHOWN = 20


def unrouted(limit: int = UNROUTED_SHOWN) -> tuple[list[RoutingDecision], int]:
    """Open items routing gave to nobody (no rule matched, or a team with nobody available) that
    nobody has taken since: the queue shows them first, oldest first. Two queries."""
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


def routing_decisions(clocks) -> dict[tuple[str, int], RoutingDecision]:
    """Routing's decision for each of these queue rows' items, by ("conversation" or "case", id):
    one query for a page."""
    conversation_ids = [c.conversation_id for c in clocks if c.conversation_id]
    case_ids = [c.case_id for c in clocks if c.case_id]
    if not conversation_ids and not case_ids:
        return {}
    decisions = RoutingDecision.objects.filter(
        Q(conversation_id__in=conversation_ids) | Q(case_id__in=case_ids)
    ).only("conversation_id", "case_id", "rule_name", "reason", "assignee_id", "team_id")
    return {
        ("conversation", d.conversation_id) if d.conversation_id else ("case", d.case_id): d
        for d in decisions
    }
