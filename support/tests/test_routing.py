"""Routing: the engine's rules in order (pure, from facts), and a case filed without an assignee
routed at filing, once, with the decision stored and written in the case's history."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from disputes.models import CaseEvent
from disputes.services.cases import cases_bulk_assign, dispute_file
from portal.services import user_set_away, user_set_working_hours
from support.models import RoutingDecision, RoutingRule, RoutingTeam
from support.routing.engine import Item, People, RuleSpec, decide
from support.routing.facts import people_for, rule_specs
from support.routing.services import case_route

OWNER, ALICE, BOB, CAROL = 1, 2, 3, 4
TEAM = 10


def rule(pk: int = 1, **fields) -> RuleSpec:
    defaults = {
        "pk": pk,
        "position": pk,
        "name": f"Rule {pk}",
        "is_active": True,
        "tier_ids": frozenset(),
        "venues": frozenset(),
        "kinds": frozenset(),
        "case_categories": frozenset(),
        "min_amount": None,
        "words": (),
        "intercom_tags": frozenset(),
        "owner_available": "",
        "assign": RoutingRule.Assign.OWNER,
        "team_id": None,
        "person_id": None,
        "when_unavailable": RoutingRule.WhenUnavailable.NEXT_RULE,
    }
    return RuleSpec(**{**defaults, **fields})


def people(**fields) -> People:
    base = People(
        available={OWNER, ALICE, BOB, CAROL},
        active={OWNER, ALICE, BOB, CAROL},
        team_members={TEAM: [ALICE, BOB, CAROL]},
    )
    return dataclasses.replace(base, **fields)


WHALE_CASE = Item(
    kind="case", tier_id=1, venue="international", case_category="market_resolution",
    amount=Decimal("250000"), text="The market resolved wrongly", owner_id=OWNER,
)  # fmt: skip


# --- the engine ----------------------------------------------------------------------------------


def test_the_first_rule_that_matches_decides_and_every_rule_before_it_says_why_not():
    rules = [
        rule(1, kinds=frozenset({"conversation"})),
        rule(2, tier_ids=frozenset({2})),
        rule(3, min_amount=Decimal("100000"), assign=RoutingRule.Assign.PERSON, person_id=ALICE),
        rule(4),
    ]
    decision = decide(WHALE_CASE, rules, people())
    assert decision.rule.pk == 3 and decision.assignee_id == ALICE
    assert [v.outcome for v in decision.verdicts] == [
        "kind does not match",
        "tier does not match",
        "the named person, available",
    ]
    assert decision.reason == "Rule “Rule 3”: the named person, available."


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"venues": frozenset({"us"})}, False),
        ({"case_categories": frozenset({"order_execution"})}, False),
        ({"min_amount": Decimal("250000")}, True),
        ({"min_amount": Decimal("250000.01")}, False),
        ({"words": ("resolved wrongly",)}, True),
        ({"words": ("refund", "chargeback")}, False),
        ({"intercom_tags": frozenset({"vip"})}, False),
        ({"owner_available": "yes"}, True),
        ({"owner_available": "no"}, False),
    ],
)
def test_each_condition(condition, matches):
    decision = decide(WHALE_CASE, [rule(1, **condition)], people())
    assert (decision.rule is not None) is matches


def test_words_and_tags_ignore_case():
    item = Item(
        kind="conversation", text="URGENT: Withdrawal stuck", intercom_tags=frozenset({"vip"}), owner_id=OWNER
    )
    assert decide(item, [rule(1, words=("withdrawal",), intercom_tags=frozenset({"vip"}))], people()).rule


def test_an_unavailable_owner_goes_on_to_the_next_rule_or_to_the_rules_team():
    away = people(available={ALICE, BOB, CAROL})
    next_rule = decide(WHALE_CASE, [rule(1), rule(2, assign=RoutingRule.Assign.PERSON, person_id=BOB)], away)
    assert next_rule.rule.pk == 2 and next_rule.assignee_id == BOB
    assert next_rule.verdicts[0].outcome == "its person is not available: on to the next rule"
    to_team = decide(
        WHALE_CASE, [rule(1, when_unavailable=RoutingRule.WhenUnavailable.TEAM, team_id=TEAM)], away
    )
    assert to_team.rule.pk == 1 and to_team.assignee_id == ALICE and to_team.team_id == TEAM


def test_a_team_gives_it_to_the_least_loaded_available_member_ties_to_who_waited_longest():
    team_rule = [rule(1, assign=RoutingRule.Assign.TEAM, team_id=TEAM)]
    loads = people(open_items={ALICE: 3, BOB: 1, CAROL: 1}, last_assigned={BOB: 200.0, CAROL: 100.0})
    assert decide(WHALE_CASE, team_rule, loads).assignee_id == CAROL  # 1 item, waited since 100
    assert (
        decide(WHALE_CASE, team_rule, dataclasses.replace(loads, available={ALICE, BOB})).assignee_id == BOB
    )
    nobody = decide(WHALE_CASE, team_rule, dataclasses.replace(loads, available=set()))
    assert nobody.assignee_id is None and nobody.team_id == TEAM


def test_broken_rules_are_skipped_and_the_next_applies():
    rules = [
        rule(1, assign=RoutingRule.Assign.PERSON, person_id=None),  # the person was deleted
        rule(2, assign=RoutingRule.Assign.PERSON, person_id=CAROL),  # no longer active
        rule(3, assign=RoutingRule.Assign.TEAM, team_id=TEAM),  # Intercom no longer has it
        rule(4, assign=RoutingRule.Assign.PERSON, person_id=BOB),
    ]
    decision = decide(WHALE_CASE, rules, people(active={OWNER, ALICE, BOB}, gone_teams={TEAM}))
    assert decision.rule.pk == 4
    assert [(v.broken, v.outcome) for v in decision.verdicts[:3]] == [
        (True, "broken (its person was deleted): skipped"),
        (True, "broken (its person is no longer active): skipped"),
        (True, "broken (Intercom no longer has its team): skipped"),
    ]


def test_nothing_matches_leaves_it_unassigned_and_inactive_rules_are_skipped():
    decision = decide(
        WHALE_CASE, [rule(1, is_active=False), rule(2, kinds=frozenset({"conversation"}))], people()
    )
    assert decision.rule is None and decision.assignee_id is None
    assert decision.reason == "No rule matched: left unassigned, at the top of the queue."
    assert decision.verdicts[0].outcome == "inactive: skipped"


def test_a_rule_sets_priority_sla_policy_and_tags():
    decision = decide(
        WHALE_CASE, [rule(1, priority="priority", sla_policy_id=7, add_tags=("whale",))], people()
    )
    assert (decision.priority, decision.sla_policy_id, decision.tags) == ("priority", 7, ("whale",))


# --- a case filed without an assignee -------------------------------------------------------------


def working_now(user) -> None:
    user_set_working_hours(user=user, days=["00:00-24:00"] * 7)


@pytest.fixture
def rules(db):
    team = RoutingTeam.objects.create(name="Disputes desk")
    owner_first = RoutingRule.objects.create(
        position=1, name="Owner first", when_unavailable=RoutingRule.WhenUnavailable.TEAM, team=team
    )
    return owner_first, team


def test_a_case_filed_without_an_assignee_goes_to_the_available_owner(rules):
    owner = specialist_user()
    working_now(owner)
    account = make_account(owner=owner)
    case = dispute_file(
        by=specialist_user(), account=account, category="order_execution", claim="Wrong fill."
    )
    case.refresh_from_db()
    assert case.assignee == owner
    routed = RoutingDecision.objects.get(case=case)
    assert routed.rule_name == "Owner first" and routed.assignee == owner
    event = case.events.get(kind=CaseEvent.Kind.ASSIGNED)
    assert event.actor is None and event.summary.startswith(
        f"Routed to {owner.display_name}: Rule “Owner first”"
    )
    assert case_route(case) is None  # routed once


def test_an_away_owner_hands_it_to_the_teams_least_loaded_available_member(rules):
    _, team = rules
    owner, busy, free = specialist_user(), specialist_user(), specialist_user()
    for person in (owner, busy, free):
        working_now(person)
    user_set_away(user=owner, away=True)
    team.members.set([busy, free])
    dispute_file(
        by=busy, account=make_account(owner=busy), category="order_execution", claim="x", assignee=busy
    )
    case = dispute_file(
        by=busy, account=make_account(owner=owner), category="order_execution", claim="Stuck."
    )
    case.refresh_from_db()
    assert case.assignee == free
    assert "the team's least-loaded available member" in case.routing.reason


def test_between_equally_loaded_members_the_one_routed_to_longest_ago_gets_it(rules):
    _, team = rules
    first, second = specialist_user(), specialist_user()
    for person in (first, second):
        working_now(person)
    team.members.set([first, second])

    def file(claim, **assigned):
        case = dispute_file(
            by=first, account=make_account(), category="order_execution", claim=claim, **assigned
        )
        case.refresh_from_db()
        return case

    manual = file("Taken by hand", assignee=first)
    to_second = file("Routed while the first was busier")
    to_first = file("Routed on a tie: the first was never routed to")
    assert (to_second.assignee, to_first.assignee) == (second, first)
    cases = [manual, to_second, to_first]
    cases_bulk_assign(by=first, case_ids=[case.pk for case in cases], assignee=None)  # equal load again
    # The second has the higher id, but was routed to longer ago.
    assert file("Third").assignee == second


def test_load_counts_open_conversations_and_cases_and_the_latest_routed_item(rules):
    from support.routing.facts import load_of
    from support.tests.factories import make_conversation

    busy, idle = specialist_user(), specialist_user()
    make_conversation(assignee=busy, state="open")
    make_conversation(assignee=busy, state="closed")
    dispute_file(by=busy, account=make_account(), category="order_execution", claim="x", assignee=busy)
    decided = dispute_file(
        by=busy, account=make_account(), category="order_execution", claim="y", assignee=busy
    )
    decided.status = "resolved"
    decided.save(update_fields=["status"])
    open_items, last_assigned = load_of([busy.pk, idle.pk])
    assert open_items == {busy.pk: 2, idle.pk: 0}
    assert last_assigned == {}
    assert load_of([]) == ({}, {})


def test_a_case_filed_with_an_assignee_is_not_routed(rules):
    owner = specialist_user()
    working_now(owner)
    chosen = specialist_user()
    case = dispute_file(
        by=chosen, account=make_account(owner=owner), category="order_execution", claim="x", assignee=chosen
    )
    assert not RoutingDecision.objects.filter(case=case).exists()


def test_nobody_available_leaves_the_case_unassigned_with_the_reason_stored(rules):
    case = dispute_file(by=specialist_user(), account=make_account(), category="order_execution", claim="x")
    case.refresh_from_db()
    assert case.assignee is None
    assert case.routing.rule_name == "Owner first" and case.routing.team is not None


def test_what_routing_reads_about_people_takes_the_same_queries_for_3_or_30(
    rules, django_assert_max_num_queries
):
    _, team = rules
    account = make_account()
    specs = rule_specs()
    item = Item(kind="case", owner_id=account.owner_id)
    team.members.set([specialist_user() for _ in range(3)])
    with django_assert_max_num_queries(20) as few:
        people_for(specs, item, at=timezone.now())
    team.members.set([specialist_user() for _ in range(30)])
    with django_assert_max_num_queries(20) as many:
        found = people_for(specs, item, at=timezone.now() + dt.timedelta(seconds=1))
    assert len(found.team_members[team.pk]) == 30
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_rule_sets_a_routed_cases_priority_in_its_history(rules):
    owner_first, _ = rules
    owner_first.priority = "urgent"
    owner_first.save()
    owner = specialist_user()
    working_now(owner)
    case = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="x")
    case.refresh_from_db()
    assert case.priority == "urgent" and case.assignee == owner
    assert case.events.filter(
        kind=CaseEvent.Kind.UPDATED, summary__startswith="Priority set to urgent"
    ).exists()


def test_without_rules_routing_is_off(db):
    owner = specialist_user()
    working_now(owner)
    case = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="x")
    case.refresh_from_db()
    assert case.assignee is None and not RoutingDecision.objects.exists()


def test_the_rules_are_read_again_whenever_they_change(db):
    from accounts.models import Tier

    team = RoutingTeam.objects.create(name="Desk")
    person = specialist_user()
    rule = RoutingRule.objects.create(position=1, name="One", assign="team", team=team)
    RoutingRule.objects.create(position=2, name="Two", assign="person", person=person)
    assert [s.name for s in rule_specs()] == ["One", "Two"]
    rule.name = "First"
    rule.save()
    assert rule_specs()[0].name == "First"
    rule.tiers.set([Tier.objects.order_by("rank").first()])  # no save: the tiers count tells
    assert rule_specs()[0].tier_ids
    team.delete()  # SET_NULL, no updated_at
    assert rule_specs()[0].team_id is None
    person.delete()
    assert rule_specs()[1].person_id is None
    RoutingRule.objects.filter(name="Two").delete()
    assert [s.name for s in rule_specs()] == ["First"]


def test_what_routing_gave_to_nobody_heads_the_queue_until_someone_takes_it(client, rules, specialist):
    case = dispute_file(
        by=specialist_user(), account=make_account(), category="order_execution", claim="Lost."
    )
    client.force_login(specialist)
    page = client.get(reverse("support:queue")).content.decode()
    card = page[
        page.index('id="unrouted-heading"') : page.index("</section>", page.index('id="unrouted-heading"'))
    ]
    assert case.reference in card and "nobody in the team is: the team has it" in card
    assert page.index('id="unrouted-heading"') < page.index('class="filters card"')
    cases_bulk_assign(case_ids=[case.pk], by=specialist, assignee=specialist)
    assert 'id="unrouted-heading"' not in client.get(reverse("support:queue")).content.decode()


def test_a_rules_sla_policy_overrides_the_policies_own_match_and_a_switched_off_one_does_not(rules):
    from support.models import SlaClock, SlaPolicy
    from support.tests.factories import make_policy

    owner_first, _ = rules
    owner = specialist_user()
    working_now(owner)
    plain = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="x")
    matched = SlaClock.objects.filter(case=plain).first().policy
    chosen = make_policy("Whale desk", kinds=["conversation"], first_response_minutes=15)  # not for cases
    owner_first.sla_policy = chosen
    owner_first.save()
    routed = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="y")
    assert routed.routing.sla_policy == chosen
    assert {clock.policy for clock in SlaClock.objects.filter(case=routed)} == {chosen}
    SlaPolicy.objects.filter(pk=chosen.pk).update(is_active=False)
    later = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="z")
    assert {clock.policy for clock in SlaClock.objects.filter(case=later)} == {matched} != {chosen}


def test_each_queue_row_says_which_rule_routed_it(client, rules, specialist):
    from django.utils.html import escape

    owner = specialist_user()
    working_now(owner)
    routed = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="x")
    by_hand = dispute_file(
        by=owner, account=make_account(owner=owner), category="order_execution", claim="y", assignee=owner
    )
    client.force_login(specialist)
    page = client.get(reverse("support:queue"), {"who": "everyone"}).content.decode()
    rows = {
        ref: page[page.index(ref) : page.index("</tr>", page.index(ref))]
        for ref in (routed.reference, by_hand.reference)
    }
    assert "Routed by Owner first" in rows[routed.reference]
    assert f'title="{escape(routed.routing.reason)}"' in rows[routed.reference]
    assert "Routed by" not in rows[by_hand.reference]
