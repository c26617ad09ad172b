"""Reads every app shares. `object_get_for_user` is the one shape of a permission-checked
getter: each app's `<thing>_get_for_user(*, user, ..., to_change=False)` passes its roles,
messages and lookup here."""

from collections.abc import Iterable
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from portal.models import User
from portal.roles import has_role

M = TypeVar("M", bound=Model)


def object_get_for_user(
    queryset: QuerySet[M],
    *,
    user: User,
    roles: Iterable[str],
    denied: str,
    missing: str,
    **lookup,
) -> M:
    """403 with `denied` when the person's role is not in `roles`; 404 with `missing` when no
    row matches, and also when the lookup value is malformed or out of range for the column (a
    hand-edited URL must never become a 500)."""
    if not has_role(user, *roles):
        raise PermissionDenied(denied)
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404(missing) from None
