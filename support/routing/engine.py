"""The routing decision, from facts alone (and, for a team's choice, its members' load through the
function it is given), so a decision over hundreds of rules is cheap and the admin page's *Test*
explains every rule the same way routing applies them.

The first active rule whose conditions all hold decides. A rule that gives work to a person who
cannot take it (unavailable, or gone) either goes on to the next rule or falls back to its team,
as it says; a rule whose person or team no longer exists is broken and skipped."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from support.models import RoutingRule

Assign = RoutingRule.Assign


@dataclass(frozen=True)
class Item:
    """What the rules may ask about a new conversation or case."""

    kind: str  # "conversation" or "case"
    tier_id: int | None = None
    venue: str = ""
    case_category: str = ""
    amount: Decimal | None = None
    text: str = ""  # a conversation's title and first message, a case's claim
    intercom_tags: frozenset[str] = frozenset()
    owner_id: int | None = None


@dataclass
class People:
    """What routing knows about people now: who is available, open items per person, when each
    was last given something (ties go to whoever waited longest), who is active, and teams'
    members in order."""

    available: set[int] = field(default_factory=set)
    active: set[int] = field(default_factory=set)
    open_items: dict[int, int] = field(default_factory=dict)
    last_assigned: dict[int, float] = field(default_factory=dict)  # grows with time; absent: never
    team_members: dict[int, list[int]] = field(default_factory=dict)
    gone_teams: set[int] = field(default_factory=set)
    # Given, open items and last assignments are asked for only when a team's member is chosen,
    # and only for its available members: most decisions (the owner, a named person) never need
    # them, and counting everyone's open work is most of a decision's cost.
    load_of: Callable[[list[int]], tuple[dict[int, int], dict[int, float]]] | None = None

    def least_loaded(self, members: Iterable[int]) -> int | None:
        candidates = [m for m in members if m in self.available]
        if not candidates:
            return None
        if self.load_of is not None:
            open_items, last_assigned = self.load_of(candidates)
            self.open_items.update(open_items)
            self.last_assigned.update(last_assigned)
        return min(candidates, key=lambda m: (self.open_items.get(m, 0), self.last_assigned.get(m, 0.0), m))


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the engine reads it (support.routing.facts.rule_specs builds them)."""

    pk: int
    position: int
    name: str
    is_active: bool
    tier_ids: frozenset[int]
    venues: frozenset[str]
    kinds: frozenset[str]
    case_categories: frozenset[str]
    min_amount: Decimal | None
    words: tuple[str, ...]
    intercom_tags: frozenset[str]
    owner_available: str
    assign: str
    team_id: int | None
    person_id: int | None
    when_unavailable: str
    priority: str = ""
    sla_policy_id: int | None = None
    add_tags: tuple[str, ...] = ()


@dataclass
class Verdict:
    """One rule's part in a decision, for the *Test* page: whether it matched, the condition that
    failed, and what came of it."""

    rule: RuleSpec
    matched: bool
    outcome: str
    decided: bool = False
    broken: bool = False


@dataclass
class Decision:
    rule: RuleSpec | None
    assignee_id: int | None
    team_id: int | None
    reason: str
    verdicts: list[Verdict]
    priority: str = ""
    sla_policy_id: int | None = None
    tags: tuple[str, ...] = ()


def _words_found(rule: RuleSpec, text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in rule.words)


# Each condition: its name in words and whether the item meets it (only asked when the rule sets it).
CONDITIONS: list[tuple[str, Callable[[RuleSpec], bool], Callable[[RuleSpec, Item, People], bool]]] = [
    ("kind", lambda r: bool(r.kinds), lambda r, i, p: i.kind in r.kinds),
    ("tier", lambda r: bool(r.tier_ids), lambda r, i, p: i.tier_id in r.tier_ids),
    ("venue", lambda r: bool(r.venues), lambda r, i, p: i.venue in r.venues),
    (
        "case category",
        lambda r: bool(r.case_categories),
        lambda r, i, p: i.case_category in r.case_categories,
    ),
    (
        "amount at stake",
        lambda r: r.min_amount is not None,
        lambda r, i, p: i.amount is not None and i.amount >= r.min_amount,
    ),
    ("words", lambda r: bool(r.words), lambda r, i, p: _words_found(r, i.text)),
    (
        "Intercom tags",
        lambda r: bool(r.intercom_tags),
        lambda r, i, p: bool(r.intercom_tags & i.intercom_tags),
    ),
    (
        "owner's availability",
        lambda r: bool(r.owner_available),
        lambda r, i, p: (
            (i.owner_id is not None and i.owner_id in p.available) == (r.owner_available == "yes")
        ),
    ),
]


def failed_condition(rule: RuleSpec, item: Item, people: People) -> str | None:
    """The first condition of the rule the item does not meet, in words; None when all hold."""
    for name, applies, holds in CONDITIONS:
        if applies(rule) and not holds(rule, item, people):
            return name
    return None


def broken_because(rule: RuleSpec, people: People) -> str | None:
    """Why the rule cannot be carried out whatever the item, or None. The rule form requires the
    person or team a rule names, so one missing now was deleted."""
    if rule.assign == Assign.PERSON and rule.person_id is None:
        return "its person was deleted"
    if rule.assign == Assign.PERSON and rule.person_id not in people.active:
        return "its person is no longer active"
    uses_team = rule.assign == Assign.TEAM or (
        rule.assign in (Assign.OWNER, Assign.PERSON)
        and rule.when_unavailable == RoutingRule.WhenUnavailable.TEAM
    )
    if uses_team and rule.team_id is None:
        return "its team was deleted"
    if uses_team and rule.team_id in people.gone_teams:
        return "Intercom no longer has its team"
    return None


def _choose(rule: RuleSpec, item: Item, people: People) -> tuple[int | None, int | None, str] | None:
    """(assignee, team, why) the rule gives the item, or None when its person cannot take it and
    it says to go on to the next rule."""
    if rule.assign == Assign.NOBODY:
        return None, None, "left unassigned"
    if rule.assign == Assign.TEAM:
        chosen = people.least_loaded(people.team_members.get(rule.team_id, []))
        if chosen is None:
            return None, rule.team_id, "nobody in the team is available: the team has it"
        return chosen, rule.team_id, "the team's available member with the fewest open items"
    person = item.owner_id if rule.assign == Assign.OWNER else rule.person_id
    who = "the account's owner" if rule.assign == Assign.OWNER else "the named person"
    if person is not None and person in people.available:
        return person, None, f"{who}, available"
    if rule.when_unavailable == RoutingRule.WhenUnavailable.TEAM and rule.team_id is not None:
        chosen = people.least_loaded(people.team_members.get(rule.team_id, []))
        if chosen is None:
            return None, rule.team_id, f"{who} is not available, and nobody in the team is: the team has it"
        return chosen, rule.team_id, f"{who} is not available: the team's least-loaded available member"
    return None


def decide(item: Item, rules: Sequence[RuleSpec], people: People) -> Decision:
    """Each rule in order until one decides; every rule's verdict is kept."""
    verdicts: list[Verdict] = []
    for rule in rules:
        if not rule.is_active:
            verdicts.append(Verdict(rule, False, "inactive: skipped"))
            continue
        failed = failed_condition(rule, item, people)
        if failed is not None:
            verdicts.append(Verdict(rule, False, f"{failed} does not match"))
            continue
        broken = broken_because(rule, people)
        if broken is not None:
            verdicts.append(Verdict(rule, True, f"broken ({broken}): skipped", broken=True))
            continue
        chosen = _choose(rule, item, people)
        if chosen is None:
            verdicts.append(Verdict(rule, True, "its person is not available: on to the next rule"))
            continue
        assignee, team, why = chosen
        verdicts.append(Verdict(rule, True, why, decided=True))
        return Decision(
            rule=rule,
            assignee_id=assignee,
            team_id=team,
            reason=f"Rule “{rule.name}”: {why}.",
            verdicts=verdicts,
            priority=rule.priority,
            sla_policy_id=rule.sla_policy_id,
            tags=rule.add_tags,
        )
    return Decision(
        rule=None,
        assignee_id=None,
        team_id=None,
        reason="No rule matched: left unassigned, at the top of the queue.",
        verdicts=verdicts,
    )
