"""The default SLA calendars and policies, kept by the data migration that seeds them."""

from importlib import import_module

from django.apps import apps
from django.db import transaction

from support.models import SlaPolicy


@transaction.atomic
def sla_defaults_ensure() -> bool:
    """Seed the default calendars and policies when there is no policy at all (after a flush,
    for example), as the migration did; call it after accounts.services.tiers_ensure_defaults
    so the tier-specific policies are made. Returns whether it seeded. Idempotent: once any
    policy exists it changes nothing, so policies an Admin deleted stay deleted."""
    if SlaPolicy.objects.exists():
        return False
    import_module("support.migrations.0003_default_sla_policies").seed_defaults(apps)
    return True
