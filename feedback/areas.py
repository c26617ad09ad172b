"""Product areas, the list feedback is filed under: Product (and Admins) add, rename, deactivate.

Areas are never deleted: items keep pointing at them. A deactivated area is no longer offered
when logging feedback, but stays on its items, in triage and in the filters, and can be
reactivated. Names are unique regardless of case and spacing ("Order book" and "order  book" are
the same area)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet

from feedback.models import ProductArea
from portal.models import User
from portal.roles import Role, has_role

AREA_MANAGERS = (Role.PRODUCT, Role.ADMIN)
NAME_MAX = ProductArea._meta.get_field("name").max_length


def _require(user: User) -> None:
    if not has_role(user, *AREA_MANAGERS):
        raise ValidationError("Your role can’t manage product areas (Product does).")


def _clean_name(name: str, *, exclude_pk: int | None = None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationError({"name": "Give the area a name."})
    if len(cleaned) > NAME_MAX:
        raise ValidationError({"name": f"Keep the name to {NAME_MAX} characters."})
    clash = ProductArea.objects.filter(name__iexact=cleaned).exclude(pk=exclude_pk).first()
    if clash is not None:
        state = "" if clash.is_active else " (deactivated — reactivate it instead)"
        raise ValidationError({"name": f"An area named “{clash.name}” already exists{state}."})
    return cleaned


def area_list() -> QuerySet[ProductArea]:
    """Every area, active first, with how many items it holds."""
    return ProductArea.objects.annotate(item_count=Count("items")).order_by("-is_active", "name")


def _save(area: ProductArea, name: str) -> ProductArea:
    try:
        with transaction.atomic():
            area.save()
    except IntegrityError:  # a concurrent save took the name between the check and the write
        raise ValidationError({"name": f"An area named “{name}” already exists."}) from None
    return area


@transaction.atomic
def area_create(*, by: User, name: str) -> ProductArea:
    _require(by)
    cleaned = _clean_name(name)
    return _save(ProductArea(name=cleaned), cleaned)


@transaction.atomic
def area_rename(*, area: ProductArea, by: User, name: str) -> ProductArea:
    _require(by)
    cleaned = _clean_name(name, exclude_pk=area.pk)
    area = ProductArea.objects.select_for_update().get(pk=area.pk)
    if area.name == cleaned:
        return area
    area.name = cleaned
    return _save(area, cleaned)


@transaction.atomic
def area_set_active(*, area: ProductArea, by: User, active: bool) -> ProductArea:
    _require(by)
    area = ProductArea.objects.select_for_update().get(pk=area.pk)
    if area.is_active != active:
        area.is_active = active
        area.save(update_fields=["is_active"])
    return area
