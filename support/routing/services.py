"""Routing carried out: decide for a new item, store the decision (once per item) and assign it."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from disputes.models import DisputeCase
from disputes.services.cases import case_apply_routing
from integrations.models import SyncJob
from integrations.outbox import outbox_record
from portal.models import User
from support.models import Conversation, RoutingDecision, RoutingRule, RoutingTeam
from support.routing.engine import Decision, decide
from support.routing.facts import MAX_WORDS, case_item, conversation_item, people_for, rule_specs, typed_words


def _record(decision: Decision, **item) -> RoutingDecision | None:
    """Store the decision; None when the item was routed already (routing happens once)."""
    try:
        with transaction.atomic():
            return RoutingDecision.objects.create(
                **item,
                rule_id=decision.rule.pk if decision.rule else None,
                rule_name=decision.rule.name if decision.rule else "",
                assignee_id=decision.assignee_id,
                team_id=decision.team_id,
                priority=decision.priority,
                sla_policy_id=decision.sla_policy_id,
                tags=list(decision.tags),
                reason=decision.reason,
                decided_at=timezone.now(),
            )
    except IntegrityError:
        return None


@transaction.atomic
def case_route(case: DisputeCase) -> RoutingDecision | None:
    """Route a case filed without an assignee: the rules decide, the decision is stored, and the
    case goes to the chosen person. None when it was routed already or has an assignee."""
    if case.assignee_id is not None or RoutingDecision.objects.filter(case=case).exists():
        return None
    rules = rule_specs()
    if not rules:  # routing is off until an Admin adds a rule
        return None
    item = case_item(case)
    decision = decide(item, rules, people_for(rules, item))
    stored = _record(decision, case=case)
    if stored is not None:
        assignee = User.objects.get(pk=decision.assignee_id) if decision.assignee_id else None
        routed = case_apply_routing(
            case=case, assignee=assignee, priority=decision.priority, reason=decision.reason
        )
        # The caller's copy goes on to the filing's other receivers (the SLA clocks): as routed.
        for name in ("assignee_id", "priority", "revision", "updated_at"):
            setattr(case, name, getattr(routed, name))
    return stored


def conversation_route(conversation: Conversation, *, first_message: str = "") -> RoutingDecision | None:
    """Route a conversation the mirror has just stored for the first time: open, and not yet
    assigned to anyone in Intercom (an assignment made there is respected). The decision is
    stored once and carried out in Intercom through the outbox. None when not routed."""
    if conversation.state != Conversation.State.OPEN or conversation.admin_assignee_id not in ("", "0"):
        return None
    rules = rule_specs()
    if not rules:
        return None
    item = conversation_item(conversation, first_message)
    decision = decide(item, rules, people_for(rules, item))
    stored = _record(decision, conversation=conversation)
    if stored is None:
        return None
    team_intercom_id = stored.team.intercom_id if stored.team_id and stored.team.intercom_id else ""
    if decision.assignee_id or team_intercom_id or decision.tags:
        outbox_record(
            kind=SyncJob.Kind.CONVERSATION_ASSIGN,
            key=f"conversation:{conversation.intercom_id}",
            payload={
                "conversation_id": conversation.intercom_id,
                "assignee_id": decision.assignee_id,
                "team_intercom_id": team_intercom_id,
                "tags": list(decision.tags),
            },
        )
    return stored


@transaction.atomic
def routing_rule_move(*, rule: RoutingRule, direction: str) -> int:
    """Swap the rule with its neighbour above or below; positions are renumbered 1..n. Returns
    its new position (unchanged when it is already first or last)."""
    rules = list(RoutingRule.objects.select_for_update().order_by("position", "pk"))
    here = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    there = here + (-1 if direction == "up" else 1)
    if 0 <= there < len(rules):
        rules[here], rules[there] = rules[there], rules[here]
    now = timezone.now()
    for position, each in enumerate(rules, 1):
        if each.position != position:
            RoutingRule.objects.filter(pk=each.pk).update(position=position, updated_at=now)
    return next(i for i, r in enumerate(rules, 1) if r.pk == rule.pk)


def routing_rule_set_active(*, rule: RoutingRule, active: bool) -> RoutingRule:
    RoutingRule.objects.filter(pk=rule.pk).update(is_active=active, updated_at=timezone.now())
    rule.is_active = active
    return rule


def routing_rule_problems(data: dict) -> dict[str, list[str]]:
    """What stops a rule from being saved, by field: an action without the person or team it
    needs, a team Intercom no longer has, a person who cannot take work, more words than routing
    reads."""
    Assign, Unavailable = RoutingRule.Assign, RoutingRule.WhenUnavailable
    problems: dict[str, list[str]] = {}
    assign, team, person = data.get("assign"), data.get("team"), data.get("person")
    if assign == Assign.TEAM and team is None:
        problems.setdefault("team", []).append("Choose the team whose member gets it.")
    if assign == Assign.PERSON and person is None:
        problems.setdefault("person", []).append("Choose the person who gets it.")
    if (
        assign in (Assign.OWNER, Assign.PERSON)
        and data.get("when_unavailable") == Unavailable.TEAM
        and team is None
    ):
        problems.setdefault("team", []).append("Choose the team that gets it when the person is unavailable.")
    if team is not None and team.gone_at is not None:
        problems.setdefault("team", []).append(f"Intercom no longer has the team {team.name}.")
    if person is not None and not person.is_active:
        problems.setdefault("person", []).append(f"{person.display_name} can no longer sign in.")
    typed = len(typed_words(data.get("words") or ""))
    if typed > MAX_WORDS:
        problems.setdefault("words", []).append(
            f"Routing reads at most {MAX_WORDS:,} words and this list has {typed:,}: keep the words that "
            "tell this kind of message apart, or split it into rules."
        )
    return problems


@transaction.atomic
def routing_rule_save(*, rule: RoutingRule | None = None, data: dict) -> RoutingRule:
    """Create (placed last) or change a rule from a form's cleaned data; refused, with nothing
    written, when routing_rule_problems finds any."""
    problems = routing_rule_problems(data)
    if problems:
        raise ValidationError(problems)
    tiers = data.pop("tiers", None)
    if rule is None:
        last = (
            RoutingRule.objects.select_for_update().order_by("-position").values_list("position", flat=True)
        )
        rule = RoutingRule(position=(last.first() or 0) + 1)
    for name, value in data.items():
        setattr(rule, name, value)
    rule.save()
    if tiers is not None:
        rule.tiers.set(tiers)
    return rule


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule) -> None:
    """Delete the rule and close the gap in the order. Decisions it made keep its name."""
    rule.delete()
    now = timezone.now()
    for position, pk in enumerate(
        RoutingRule.objects.order_by("position", "pk").values_list("pk", flat=True), 1
    ):
        RoutingRule.objects.filter(pk=pk).exclude(position=position).update(position=position, updated_at=now)


@transaction.atomic
def routing_team_save(*, team: RoutingTeam | None = None, data: dict) -> RoutingTeam:
    """Create or change a team from a form's cleaned data. A team given an Intercom id again
    counts as present until the next teams sync says otherwise."""
    members = data.pop("members", None)
    team = team or RoutingTeam()
    stored = RoutingTeam.objects.filter(pk=team.pk).values_list("intercom_id", flat=True).first()
    if data.get("intercom_id") != stored:  # compared with the row: a form may have set the field
        team.gone_at = None
    for name, value in data.items():
        setattr(team, name, value)
    team.save()
    if members is not None:
        team.members.set(members)
    return team


def routing_team_delete(*, team: RoutingTeam) -> None:
    """Delete a team no rule names (a rule that named it would silently break)."""
    naming = list(RoutingRule.objects.filter(team=team).order_by("position").values_list("name", flat=True))
    if naming:
        raise ValidationError(
            f"Rules name this team: {', '.join(f'“{n}”' for n in naming)}. Change them first."
        )
    team.delete()
