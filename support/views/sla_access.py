"""Who may see and change the SLA configuration, and the permission-checked getters of its
pages. (They belong in support/selectors.py once the SLA clocks' work there settles.)"""

from portal.roles import Role
from portal.selectors import object_get_for_user
from support.models import BusinessCalendar, SlaPolicy

# Admins configure SLA policies; Specialists and Leadership read them; Product does not see them.
SLA_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
SLA_EDITORS = (Role.ADMIN,)


def calendar_get_for_user(*, user, pk, to_change: bool = False) -> BusinessCalendar:
    return object_get_for_user(
        BusinessCalendar.objects.prefetch_related("windows", "holidays"),
        user=user,
        roles=SLA_EDITORS if to_change else SLA_READERS,
        denied="Only Admins change SLA calendars."
        if to_change
        else "Your role does not include SLA settings.",
        missing="No such calendar.",
        pk=pk,
    )


def policy_get_for_user(*, user, pk, to_change: bool = False) -> SlaPolicy:
    return object_get_for_user(
        SlaPolicy.objects.select_related("calendar").prefetch_related("tiers"),
        user=user,
        roles=SLA_EDITORS if to_change else SLA_READERS,
        denied="Only Admins change SLA policies."
        if to_change
        else "Your role does not include SLA settings.",
        missing="No such policy.",
        pk=pk,
    )
