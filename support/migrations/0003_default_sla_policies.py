"""The default SLA calendars and policies: the case targets filing used before policies
existed (first response by tier rank, resolution by category, around the clock), conversation
targets by tier, and a catch-all. Idempotent (by name); also run by
support.sla.defaults.sla_defaults_ensure after a flush. The data is frozen here, as migrations
must be: later changes to the filing code or the tiers do not change what this seeds."""

from django.db import migrations

ALWAYS = "24/7"
OFFICE = "Business hours"
CALENDARS = {
    # name: (time zone, description, windows as (weekday, start minute, end minute))
    ALWAYS: ("UTC", "Open around the clock, every day.", [(day, 0, 1440) for day in range(7)]),
    OFFICE: (
        "America/New_York",
        "Monday to Friday, 09:00–17:00 New York time.",
        [(day, 9 * 60, 17 * 60) for day in range(5)],
    ),
}

# As disputes/services/cases/filing.py had them: first response by tier rank (8 h otherwise),
# resolution by category, in hours of plain (24/7) time.
CASE_FIRST_RESPONSE_HOURS = {1: 1, 2: 4}
CASE_FIRST_RESPONSE_DEFAULT_HOURS = 8
CASE_RESOLUTION_HOURS = {
    "market_resolution": ("Market resolution", 72),
    "order_execution": ("Order execution", 48),
    "platform_mechanics": ("Platform mechanics", 48),
}
# Conversations of the top tiers around the clock; (first, next response, resolution) minutes.
CONVERSATION_MINUTES = {1: (60, 60, 24 * 60), 2: (4 * 60, 4 * 60, 48 * 60)}


def default_policies(tiers_by_rank: dict) -> list[dict]:
    """The default policies in order. Tier-specific ones only for the tiers that exist; the
    per-category case policies after them keep every other tier at the 8-hour default."""
    policies = []
    for rank, hours in CASE_FIRST_RESPONSE_HOURS.items():
        tier = tiers_by_rank.get(rank)
        for category, (label, resolution_hours) in CASE_RESOLUTION_HOURS.items():
            if tier is not None:
                policies.append(
                    {
                        "name": f"{tier.name}: {label.lower()} cases",
                        "tier": tier,
                        "kinds": ["case"],
                        "case_categories": [category],
                        "first_response_minutes": hours * 60,
                        "resolution_minutes": resolution_hours * 60,
                        "calendar": ALWAYS,
                    }
                )
    for category, (label, resolution_hours) in CASE_RESOLUTION_HOURS.items():
        policies.append(
            {
                "name": f"{label} cases",
                "kinds": ["case"],
                "case_categories": [category],
                "first_response_minutes": CASE_FIRST_RESPONSE_DEFAULT_HOURS * 60,
                "resolution_minutes": resolution_hours * 60,
                "calendar": ALWAYS,
            }
        )
    for rank, (first, following, resolution) in CONVERSATION_MINUTES.items():
        tier = tiers_by_rank.get(rank)
        if tier is not None:
            policies.append(
                {
                    "name": f"{tier.name} conversations",
                    "tier": tier,
                    "kinds": ["conversation"],
                    "first_response_minutes": first,
                    "next_response_minutes": following,
                    "resolution_minutes": resolution,
                    "calendar": ALWAYS,
                }
            )
    policies.append(
        {
            "name": "Other conversations",
            "kinds": ["conversation"],
            "first_response_minutes": 8 * 60,
            "next_response_minutes": 8 * 60,
            "resolution_minutes": 5 * 8 * 60,
            "calendar": OFFICE,
        }
    )
    policies.append(
        {
            "name": "Everything else",
            "first_response_minutes": 8 * 60,
            "next_response_minutes": 8 * 60,
            "resolution_minutes": 5 * 8 * 60,
            "calendar": OFFICE,
        }
    )
    return policies


def seed_defaults(apps, schema_editor=None):
    """Create what is missing, by name; never changes or reorders what exists."""
    BusinessCalendar = apps.get_model("support", "BusinessCalendar")
    OpeningWindow = apps.get_model("support", "OpeningWindow")
    SlaPolicy = apps.get_model("support", "SlaPolicy")
    Tier = apps.get_model("accounts", "Tier")
    calendars = {}
    for name, (time_zone, description, windows) in CALENDARS.items():
        calendar, created = BusinessCalendar.objects.get_or_create(
            name=name, defaults={"time_zone": time_zone, "description": description}
        )
        if created:
            OpeningWindow.objects.bulk_create(
                OpeningWindow(calendar=calendar, weekday=day, start_minute=start, end_minute=end)
                for day, start, end in windows
            )
        calendars[name] = calendar
    tiers_by_rank = {tier.rank: tier for tier in Tier.objects.all()}
    last = SlaPolicy.objects.order_by("-position").values_list("position", flat=True).first() or 0
    for spec in default_policies(tiers_by_rank):
        if SlaPolicy.objects.filter(name=spec["name"]).exists():
            continue
        last += 1
        tier = spec.pop("tier", None)
        policy = SlaPolicy.objects.create(position=last, **{**spec, "calendar": calendars[spec["calendar"]]})
        if tier is not None:
            policy.tiers.add(tier)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_default_tiers"),
        ("support", "0002_sla_calendars_policies"),
    ]
    operations = [migrations.RunPython(seed_defaults, migrations.RunPython.noop)]
