"""Support listens to what the apps below it announce (they never import support)."""

from django.dispatch import receiver

from disputes.models import DisputeCase
from disputes.signals import case_changed
from support.sla.clocks import sla_evaluate_case


@receiver(case_changed, sender=DisputeCase, dispatch_uid="support.sla_case_changed")
def case_clocks_follow(sender, *, case: DisputeCase, what: str, **kwargs) -> None:
    """A case filed, moved, assigned, replied to or decided: its SLA clocks follow, in the same
    transaction."""
    sla_evaluate_case(case)
