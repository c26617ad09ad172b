"""Which SLA policy applies: the first active policy in order whose conditions all hold, the
explanation of every policy, the facts read from conversations and cases, and the defaults."""

import pytest

from accounts.models import Venue
from accounts.tests.factories import make_account, specialist_user, tier
from disputes.models import DisputeCase
from disputes.services.cases import dispute_file
from disputes.services.cases.filing import FIRST_RESPONSE_HOURS, RESOLUTION_HOURS
from support.models import BusinessCalendar, SlaPolicy
from support.sla.defaults import sla_defaults_ensure
from support.sla.matching import (
    SlaFacts,
    facts_for_case,
    facts_for_conversation,
    policies_in_order,
    policy_explain,
    policy_for,
)
from support.sla.policies import PolicyInput, policies_reorder, policy_save
from support.tests.factories import make_calendar, make_conversation, make_policy, sla_defaults

pytestmark = pytest.mark.django_db


def case_facts(tier_rank=1, category="order_execution", priority="normal", venue="international"):
    return SlaFacts("case", tier(tier_rank).pk, category, priority, venue)


def conversation_facts(tier_rank=1, priority="normal", venue="international"):
    return SlaFacts("conversation", tier(tier_rank).pk if tier_rank else None, None, priority, venue)


@pytest.fixture
def policies():
    """A list of our own instead of the seeded one."""
    SlaPolicy.objects.all().delete()
    office = make_calendar("Office")
    return {
        "urgent top": make_policy("Urgent Tier 1", calendar=office, tiers=[tier(1)], priorities=["urgent"]),
        "us cases": make_policy("US cases", calendar=office, kinds=["case"], venues=["us"]),
        "resolution": make_policy(
            "Resolution cases", calendar=office, kinds=["case"], case_categories=["market_resolution"]
        ),
        "paused": make_policy("Switched off", calendar=office, kinds=["case"], is_active=False),
        "conversations": make_policy("Conversations", calendar=office, kinds=["conversation"]),
        "catch-all": make_policy("Everything", calendar=office),
    }


def test_first_matching_active_policy_applies(policies):
    assert policy_for(case_facts(priority="urgent", venue="us")) == policies["urgent top"]
    assert policy_for(case_facts(tier_rank=2, priority="urgent", venue="us")) == policies["us cases"]
    assert policy_for(case_facts(category="market_resolution")) == policies["resolution"]
    assert policy_for(conversation_facts(tier_rank=None)) == policies["conversations"]
    assert policy_for(case_facts(tier_rank=3)) == policies["catch-all"]


def test_no_policy_applies_without_a_match_or_a_catch_all(policies):
    policies["catch-all"].delete()
    assert policy_for(case_facts(tier_rank=3)) is None


def test_inactive_policy_never_applies(policies):
    policies["catch-all"].delete()
    assert policy_for(case_facts(tier_rank=2, category="platform_mechanics")) is None


def test_explain_shows_every_policy_in_order_with_the_condition_that_failed(policies):
    rows = policy_explain(case_facts(tier_rank=2, category="market_resolution", priority="urgent"))
    assert [(policy.name, matched, failed) for policy, matched, failed in rows] == [
        ("Urgent Tier 1", False, "tiers"),
        ("US cases", False, "venues"),
        ("Resolution cases", True, None),
        ("Switched off", False, "is_active"),
        ("Conversations", False, "kinds"),
        ("Everything", True, None),
    ]
    rows = policy_explain(case_facts(tier_rank=1, priority="high"))
    assert rows[0][1:] == (False, "priorities")
    assert rows[2][1:] == (False, "case_categories")


def test_matching_loads_the_policies_once(policies, django_assert_max_num_queries):
    facts = [case_facts(r, c) for r in (1, 2, 3) for c in DisputeCase.Category.values]
    with django_assert_max_num_queries(2):
        loaded = policies_in_order()
        found = [policy_for(f, policies=loaded) for f in facts]
        assert {p.calendar.name for p in found} == {"Office"}
    with django_assert_max_num_queries(2):
        policy_for(facts[0])
    with django_assert_max_num_queries(2):
        policy_explain(facts[0])


def test_a_new_policy_goes_before_the_catch_all_and_reorder_numbers_them(policies):
    office = BusinessCalendar.objects.get(name="Office")
    added = policy_save(
        data=PolicyInput(name="Low priority", calendar=office, priorities=["low"], resolution_minutes=5)
    )
    names = list(SlaPolicy.objects.values_list("name", flat=True))
    assert names[-2:] == ["Low priority", "Everything"]
    order = [added.pk] + [p.pk for p in SlaPolicy.objects.exclude(pk=added.pk)]
    policies_reorder(order=order)
    assert list(SlaPolicy.objects.values_list("pk", "position")) == [(pk, n) for n, pk in enumerate(order, 1)]
    assert policy_for(case_facts(priority="low")) == added


def test_conversation_facts_come_from_its_account_and_intercom_priority():
    account = make_account(tier_rank=2, venue=Venue.US)
    conversation = make_conversation(account, priority="urgent")
    assert facts_for_conversation(conversation) == SlaFacts("conversation", tier(2).pk, None, "urgent", "us")
    for intercom, ours in [("none", "normal"), ("medium", "normal"), ("low", "low"), ("priority", "high")]:
        conversation.priority = intercom
        assert facts_for_conversation(conversation).priority == ours
    stranger = make_conversation(priority="high")
    assert facts_for_conversation(stranger) == SlaFacts("conversation", None, None, "high", None)


def test_case_facts_come_from_the_case_and_its_account():
    user = specialist_user()
    account = make_account(owner=user, tier_rank=3)
    case = dispute_file(
        by=user, account=account, category="platform_mechanics", claim="Stuck.", priority="high"
    )
    assert facts_for_case(case) == SlaFacts("case", tier(3).pk, "platform_mechanics", "high", "international")


# The seeded defaults


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("category", DisputeCase.Category.values)
@pytest.mark.parametrize("priority", DisputeCase.Priority.values)
@pytest.mark.parametrize("venue", Venue.values)
def test_seeded_case_policies_give_the_filing_tables_targets_around_the_clock(
    rank, category, priority, venue
):
    sla_defaults()
    policy = policy_for(case_facts(rank, category, priority, venue))
    assert policy.first_response_minutes == FIRST_RESPONSE_HOURS.get(rank, 8) * 60
    assert policy.resolution_minutes == RESOLUTION_HOURS[category] * 60
    assert policy.calendar.name == "24/7" and policy.calendar.spec().windows == (((0, 1440),),) * 7


def test_seeded_conversation_policies_put_the_top_tiers_on_24_7_and_others_on_business_hours():
    sla_defaults()
    assert policy_for(conversation_facts(1)).calendar.name == "24/7"
    assert policy_for(conversation_facts(2)).calendar.name == "24/7"
    assert policy_for(conversation_facts(3)).name == "Other conversations"
    assert policy_for(conversation_facts(None)).calendar.name == "Business hours"
    rows = policy_explain(conversation_facts(3))
    assert rows[-1][0].name == "Everything else" and rows[-1][1:] == (True, None)


def test_seeded_list_is_valid_the_catch_all_last():
    sla_defaults()
    policies = policies_in_order()
    assert policies[-1].name == "Everything else"
    assert not any(p.tiers.all() or p.kinds for p in policies[-1:])
    assert all(p.kinds for p in policies[:-1])
    assert all(p.pause_while_waiting and p.warn_minutes == 15 for p in policies)


def test_defaults_are_seeded_again_only_when_no_policy_is_left():
    sla_defaults()
    assert sla_defaults_ensure() is False
    SlaPolicy.objects.all().delete()
    assert sla_defaults_ensure() is True
    assert SlaPolicy.objects.filter(name="Tier 1: order execution cases", tiers=tier(1)).exists()
    assert BusinessCalendar.objects.filter(name="24/7").count() == 1
