"""Roles (Django groups), what each may do, and the one way views require a role.

`manage.py setup_roles` makes the groups match ROLE_PERMISSIONS exactly; each app that adds
models adds its permissions here.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    SPECIALIST = "Specialist", "Specialist"
    LEADERSHIP = "Leadership", "Leadership"
    PRODUCT = "Product", "Product"
    ADMIN = "Admin", "Admin"


# "app_label.codename" per role. Admins configure the program in the Django admin.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.SPECIALIST: [
        "accounts.view_account",
        "accounts.add_account",
        "accounts.change_account",
        "accounts.view_checkin",
        "accounts.add_checkin",
        "accounts.change_checkin",
        "accounts.delete_checkin",
        "accounts.view_wallet",
        "accounts.add_wallet",
        "accounts.delete_wallet",
        "accounts.add_accountimport",
        "accounts.view_accountimport",
        "disputes.view_market",
        "disputes.add_market",
        "disputes.view_marketruleversion",
        "disputes.add_clarification",
        "disputes.view_rulebooksection",
        "disputes.view_disputecase",
        "disputes.add_disputecase",
        "disputes.change_disputecase",
        "playbooks.view_playbook",
        "playbooks.add_playbook",
        "playbooks.change_playbook",
        "playbooks.view_responsetemplate",
        "playbooks.add_responsetemplate",
        "playbooks.change_responsetemplate",
    ],
    Role.LEADERSHIP: [
        "accounts.view_account",
        "accounts.view_checkin",
        "accounts.view_wallet",
        "accounts.view_tier",
        "disputes.view_market",
        "disputes.view_marketruleversion",
        "disputes.view_rulebooksection",
        "disputes.view_disputecase",
        "playbooks.view_playbook",
        "playbooks.view_responsetemplate",
    ],
    Role.PRODUCT: [
        "playbooks.view_playbook",
        "playbooks.view_responsetemplate",
        # The area list is Product's to manage (/feedback/areas/): add, rename, deactivate.
        "feedback.view_productarea",
        "feedback.add_productarea",
        "feedback.change_productarea",
    ],
    Role.ADMIN: [
        "portal.view_user",
        "portal.add_user",
        "portal.change_user",
        "auth.view_group",
        # Read-only: schedules are declared in portal/schedules.py (`setup_schedules`), and a
        # schedule may name any function, so only superusers edit them (portal/admin.py).
        "django_q.view_schedule",
        "django_q.view_success",
        "django_q.view_failure",
        "django_q.view_ormq",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "accounts.view_tier",
        "accounts.add_tier",
        "accounts.change_tier",
        "accounts.view_account",
        "accounts.view_wallet",
        "accounts.view_checkin",
        "accounts.view_accountimport",
        "integrations.view_syncjob",
        "integrations.view_intercomadmin",
        "integrations.change_intercomadmin",
        "disputes.view_market",
        "disputes.view_rulebooksection",
        "disputes.add_rulebooksection",
        "disputes.change_rulebooksection",
        "disputes.view_disputecase",
        "playbooks.view_playbook",
        "playbooks.add_playbook",
        "playbooks.change_playbook",
        "playbooks.view_responsetemplate",
        "playbooks.add_responsetemplate",
        "playbooks.change_responsetemplate",
        "feedback.view_productarea",
        "feedback.add_productarea",
        "feedback.change_productarea",
        "feedback.view_feedbackitem",
        # SLA calendars and policies (issue 15). Deleting a calendar or a policy goes through
        # the portal, which refuses what is in use; windows and holidays are parts of a calendar.
        "support.view_businesscalendar",
        "support.add_businesscalendar",
        "support.change_businesscalendar",
        "support.view_openingwindow",
        "support.add_openingwindow",
        "support.change_openingwindow",
        "support.delete_openingwindow",
        "support.view_holiday",
        "support.add_holiday",
        "support.change_holiday",
        "support.delete_holiday",
        "support.view_slapolicy",
        "support.add_slapolicy",
        "support.change_slapolicy",
        # Routing (issue 19): rules and teams kept in the admin for now; decisions are records.
        "support.view_routingrule",
        "support.add_routingrule",
        "support.change_routingrule",
        "support.delete_routingrule",
        "support.view_routingteam",
        "support.add_routingteam",
        "support.change_routingteam",
        "support.delete_routingteam",
        "support.view_routingdecision",
        # On call (issue 16). Rotas and overrides are edited on /oncall/; escalation policies and
        # each person's own chat webhook in the admin; escalations and pages are records.
        "oncall.view_rota",
        "oncall.view_rotalayer",
        "oncall.view_rotamember",
        "oncall.view_rotaoverride",
        "oncall.view_escalationpolicy",
        "oncall.add_escalationpolicy",
        "oncall.change_escalationpolicy",
        "oncall.view_escalationstep",
        "oncall.add_escalationstep",
        "oncall.change_escalationstep",
        "oncall.delete_escalationstep",
        "oncall.view_oncallcontact",
        "oncall.add_oncallcontact",
        "oncall.change_oncallcontact",
        "oncall.delete_oncallcontact",
        "oncall.view_escalation",
        "oncall.view_page",
    ],
}

ALL_ROLES = tuple(Role)


def user_roles(user) -> frozenset[str]:
    """The role names a user holds, read once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._portal_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    """True when the user is active and holds any of `roles` (superusers hold every role)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user_roles(user) & set(roles))


def require_role(user, roles: Iterable[str]) -> None:
    """Raise PermissionDenied (a 403 page) unless the user holds one of `roles`."""
    if not has_role(user, *roles):
        raise PermissionDenied("Your role does not give access to this page.")


def role_required(*roles: str) -> Callable:
    """Decorator for function views: only people holding one of `roles` get through."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require_role(request.user, roles)
            return view(request, *args, **kwargs)

        wrapped.required_roles = tuple(roles)
        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    """Mixin for class-based views; set `required_roles` on the view."""

    required_roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if not self.required_roles:
            raise PermissionDenied("This page declares no role.")
        require_role(request.user, self.required_roles)
        return super().dispatch(request, *args, **kwargs)
