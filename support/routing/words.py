"""A routing rule in words, for the routing page."""

from accounts.models import Venue
from disputes.models import DisputeCase
from portal.templatetags.portal_tags import money, person
from support.models import RoutingRule
from support.routing.facts import MAX_WORDS, rule_words, typed_words


def rule_conditions_in_words(rule: RoutingRule) -> list[str]:
    """Each condition the rule sets, as a phrase; tiers must be prefetched."""
    said = []
    if rule.kinds:
        said.append(" or ".join(f"{k}s" for k in rule.kinds).capitalize())
    tiers = [t.name for t in rule.tiers.all()]
    if tiers:
        said.append("tier " + " or ".join(tiers))
    if rule.venues:
        said.append("venue " + " or ".join(str(Venue(v).label) for v in rule.venues if v in Venue.values))
    if rule.case_categories:
        labels = [
            str(DisputeCase.Category(c).label).lower()
            for c in rule.case_categories
            if c in DisputeCase.Category.values
        ]
        said.append(" or ".join(labels) + " cases")
    if rule.min_amount is not None:
        said.append(f"at stake at least {money(rule.min_amount)}")
    words = rule_words(rule.words)
    if words:
        shown = ", ".join(f"“{w}”" for w in words[:5]) + (
            f" and {len(words) - 5} more" if len(words) > 5 else ""
        )
        said.append(f"mentions {shown}")
        typed = len(typed_words(rule.words))
        if typed > MAX_WORDS:
            said.append(f"(only the first {MAX_WORDS:,} of its {typed:,} words are read)")
    if rule.intercom_tags:
        said.append("tagged " + " or ".join(rule.intercom_tags))
    if rule.owner_available:
        said.append("the owner is " + ("available" if rule.owner_available == "yes" else "not available"))
    return said or ["Everything"]


def rule_actions_in_words(rule: RoutingRule) -> list[str]:
    Assign = RoutingRule.Assign
    if rule.assign == Assign.TEAM:
        said = [f"the least-loaded available member of {rule.team.name if rule.team else '(a deleted team)'}"]
    elif rule.assign == Assign.PERSON:
        said = [person(rule.person) if rule.person else "(a deleted person)"]
    elif rule.assign == Assign.OWNER:
        said = ["the account's owner"]
    else:
        said = ["nobody: left unassigned"]
    if rule.assign in (Assign.OWNER, Assign.PERSON):
        if rule.when_unavailable == RoutingRule.WhenUnavailable.TEAM:
            said.append(f"if unavailable, {rule.team.name if rule.team else '(a deleted team)'}")
        else:
            said.append("if unavailable, the next rule")
    if rule.priority:
        said.append(f"priority {DisputeCase.Priority(rule.priority).label.lower()}")
    if rule.sla_policy_id:
        said.append(f"SLA policy {rule.sla_policy.name}")
    if rule.add_tags:
        said.append("tags " + ", ".join(rule.add_tags))
    return said
