"""Routing for the demo: a desk of every demo specialist, their working hours, and three rules
that show the common shapes (the owner first, big disputes to the desk, the rest to the desk)."""

from decimal import Decimal

from accounts.models import Tier
from portal.models import User
from support.models import RoutingRule, RoutingTeam

# Working hours by demo specialist, in their own zones: the first works around the clock so that
# the demo always has someone on shift; the others keep office hours.
HOURS = (
    [[day, 0, 1440] for day in range(7)],
    [[day, 540, 1080] for day in range(5)],
    [[day, 480, 960] for day in range(5)],
)


def seed_routing(*, specialists: list[User]) -> dict:
    for index, person in enumerate(specialists):
        person.working_hours = HOURS[index % len(HOURS)]
    User.objects.bulk_update(specialists, ["working_hours"])
    desk = RoutingTeam.objects.create(name="Advanced support desk")
    desk.members.set(specialists)
    top_tier = Tier.objects.order_by("rank").first()
    owner_first = RoutingRule.objects.create(
        position=1,
        name="Top-tier traders go to their owner",
        assign=RoutingRule.Assign.OWNER,
        when_unavailable=RoutingRule.WhenUnavailable.TEAM,
        team=desk,
    )
    if top_tier is not None:
        owner_first.tiers.set([top_tier])
    RoutingRule.objects.create(
        position=2,
        name="Big market-resolution disputes: urgent, to the desk",
        kinds=["case"],
        case_categories=["market_resolution"],
        min_amount=Decimal("10000"),
        assign=RoutingRule.Assign.TEAM,
        team=desk,
        priority="urgent",
    )
    RoutingRule.objects.create(
        position=3,
        name="Everything else: the owner, else the desk",
        assign=RoutingRule.Assign.OWNER,
        when_unavailable=RoutingRule.WhenUnavailable.TEAM,
        team=desk,
    )
    return {"rules": 3, "teams": 1}
