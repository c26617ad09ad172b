from django.db import migrations

DEFAULT_TIERS = [
    # name, rank, cadence days, weight, tag, description
    ("Tier 1", 1, 7, "3.00", "advanced-tier-1", "Whales and market makers: weekly proactive contact."),
    ("Tier 2", 2, 14, "2.00", "advanced-tier-2", "Pro traders: contact every two weeks."),
    ("Tier 3", 3, 30, "1.00", "advanced-tier-3", "Rising advanced users: monthly contact."),
]


def create_default_tiers(apps, schema_editor):
    Tier = apps.get_model("accounts", "Tier")
    for name, rank, cadence, weight, tag, description in DEFAULT_TIERS:
        Tier.objects.get_or_create(
            name=name,
            defaults={
                "rank": rank,
                "default_cadence_days": cadence,
                "weight": weight,
                "intercom_tag": tag,
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_default_tiers, migrations.RunPython.noop)]
