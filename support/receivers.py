"""Support listens to what the apps below it announce (they never import support)."""

from django.dispatch import receiver

from disputes.models import DisputeCase
from disputes.signals import case_changed
from support.sla.clocks import sla_evaluate_case


@receiver(case_changed, sender=DisputeCase, dispatch_uid="support.route_filed_case")
def route_filed_case(sender, *, case: DisputeCase, what: str, **kwargs) -> None:
    """A case filed without an assignee is routed by the rules, in the filing's transaction:
    first, so that its SLA clocks start under the priority and policy routing chose."""
    if what == "filed" and case.assignee_id is None:
        from support.routing.services import case_route

        case_route(case)


@receiver(case_changed, sender=DisputeCase, dispatch_uid="support.sla_case_changed")
def case_clocks_follow(sender, *, case: DisputeCase, what: str, **kwargs) -> None:
    """A case filed, moved, assigned, replied to or decided: its SLA clocks follow, in the same
    transaction."""
    sla_evaluate_case(case)
