"""Deleting SLA configuration only when nothing refers to it."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import PROTECT, RESTRICT, ProtectedError, RestrictedError


def references(obj: models.Model) -> dict[str, int]:
    """How many rows keep `obj` from being deleted, by their plural name: every foreign key to
    it declared with on_delete=PROTECT or RESTRICT (the policies using a calendar, and the
    applied SLA clocks using a policy once they exist). One count query per such key."""
    found = {}
    for relation in obj._meta.related_objects:
        if getattr(relation, "on_delete", None) not in (PROTECT, RESTRICT):
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: obj}).count()
        if count:
            found[str(relation.related_model._meta.verbose_name_plural)] = count
    return found


def delete_unless_in_use(obj: models.Model, *, what: str) -> None:
    """Delete `obj`, or raise ValidationError saying what still refers to it and delete nothing.
    `what` names it in the message ("The calendar “24/7”")."""
    found = references(obj)
    if not found:
        try:
            with transaction.atomic():
                obj.delete()
            return
        except (ProtectedError, RestrictedError):  # referred to in the meantime
            found = references(obj) or {"other records": 1}
    users = ", ".join(f"{count} {name}" for name, count in sorted(found.items()))
    raise ValidationError({NON_FIELD_ERRORS: [f"{what} is in use ({users}) and can’t be deleted."]})
