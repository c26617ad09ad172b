"""Routing: one decision over 200 rules and 50 specialists (target ≤ 5 ms), the engine alone and
with what it reads from the database (the rules, and availability, open items and last
assignment of the people they could choose), on 2,000 open cases.

The rules are built so that the last one decides: 199 rules are read and refused first (words,
tiers, amounts, categories, venues, tags, owners that are away), then a team rule picks the
least-loaded available member of ten."""

import datetime as dt
import os
import random
from decimal import Decimal

from django.utils import timezone

from bench.timing import measure, measure_us, summary, summary_us

RULES = int(os.environ.get("BENCH_ROUTING_RULES", "200"))
SPECIALISTS = int(os.environ.get("BENCH_ROUTING_SPECIALISTS", "50"))
OPEN_CASES = int(os.environ.get("BENCH_ROUTING_OPEN_CASES", "2000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "50"))


def _world(rng):
    from accounts.models import Account, Tier
    from disputes.models import DisputeCase
    from portal.models import User
    from portal.roles import Role
    from portal.services import roles_sync
    from support.models import RoutingRule, RoutingTeam

    roles_sync()
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=Role.SPECIALIST)
    people = User.objects.bulk_create(
        User(
            username=f"route{n}",
            first_name="Route",
            last_name=str(n),
            time_zone="UTC",
            working_hours=[[d, 0, 1440] for d in range(7)] if n % 5 else [],
            is_away=n % 7 == 0,
        )
        for n in range(SPECIALISTS)
    )
    group.user_set.add(*people)
    tiers = list(Tier.objects.order_by("rank"))
    accounts = Account.objects.bulk_create(
        Account(
            display_name=f"Routed {n}",
            email=f"routed{n}@example.com",
            external_id=f"routed-{n}",
            tier=tiers[n % len(tiers)],
            owner=people[n % SPECIALISTS],
        )
        for n in range(200)
    )
    now = timezone.now()
    DisputeCase.objects.bulk_create(
        DisputeCase(
            reference=f"DSP-2026-9{n:04d}",
            year=2026,
            number=90000 + n,
            account=accounts[n % len(accounts)],
            category="order_execution",
            venue="international",
            claim="Slow fill",
            amount_at_stake=Decimal(100),
            assignee=people[rng.randrange(SPECIALISTS)],
            first_response_due=now + dt.timedelta(hours=4),
            resolution_due=now + dt.timedelta(days=2),
            filed_by=people[0],
        )
        for n in range(OPEN_CASES)
    )
    teams = []
    for t in range(5):
        team = RoutingTeam.objects.create(name=f"Desk {t}", intercom_id=str(7000 + t))
        team.members.set(people[t * 10 : t * 10 + 10])
        teams.append(team)
    words = "\n".join(f"word{n}" for n in range(40))
    for position in range(1, RULES):
        kind = position % 6
        rule = RoutingRule.objects.create(
            position=position,
            name=f"Rule {position}",
            words=words if kind == 0 else "",
            min_amount=Decimal(10**9) if kind == 1 else None,
            case_categories=["platform_mechanics"] if kind == 2 else [],
            venues=["us"] if kind == 3 else [],
            intercom_tags=["vip"] if kind == 4 else [],
            owner_available="no" if kind == 5 else "",
            assign=RoutingRule.Assign.TEAM if position % 2 else RoutingRule.Assign.OWNER,
            team=teams[position % len(teams)],
        )
        if kind == 5:
            rule.tiers.set([tiers[-1]])
    RoutingRule.objects.create(position=RULES, name="Desk 0 takes the rest", assign="team", team=teams[0])
    return accounts


def run(report):
    from disputes.models import DisputeCase
    from support.routing.engine import decide
    from support.routing.facts import case_item, people_for, rule_specs

    rng = random.Random(19)
    accounts = _world(rng)
    case = DisputeCase.objects.select_related("account").filter(account=accounts[0]).first()
    item = case_item(case)
    specs = rule_specs()
    people = people_for(specs, item)
    decision = decide(item, specs, people)
    people.load_of = None  # the engine alone: the load it asked for is known now
    report.figure("rules, specialists, open cases", f"{len(specs)}, {SPECIALISTS}, {OPEN_CASES}")
    report.figure("decided by", f"rule {decision.rule.position} ({decision.reason})")
    engine = measure_us(lambda _: decide(item, specs, people), list(range(REPEAT * 20)))
    report.figure("the engine alone (200 rules)", summary_us(engine))

    def whole():
        rules = rule_specs()
        decide(item, rules, people_for(rules, item))

    report.figure("a whole decision, reads included", summary(measure(whole, repeat=REPEAT)))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        whole()
    report.figure("  queries per decision", len(queries.captured_queries))
    _profile(report, item)


def _profile(report, item):
    from portal.availability import on_shift_ids
    from support.routing.facts import load_of, people_for, rule_specs

    specs = rule_specs()
    report.figure("  reading the rules", summary(measure(rule_specs, repeat=REPEAT)))
    report.figure("  reading the people", summary(measure(lambda: people_for(specs, item), repeat=REPEAT)))
    people = people_for(specs, item)
    desk = [m for m in people.team_members[specs[-1].team_id] if m in people.available]
    report.figure(
        f"  their load ({len(desk)} available)", summary(measure(lambda: load_of(desk), repeat=REPEAT))
    )
    report.figure("    on call now", summary(measure(lambda: on_shift_ids(timezone.now()), repeat=REPEAT)))
