"""Names for the breakdowns' rows (tiers, people, venues), each read in one query, and the
SQL expression of a person's name for row lists."""

from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim

from accounts.models import Tier, Venue

UNASSIGNED = "Unassigned"


def tier_names() -> dict[int, str]:
    return dict(Tier.objects.order_by("rank").values_list("pk", "name"))


def tier_order() -> list[int]:
    return list(Tier.objects.order_by("rank").values_list("pk", flat=True))


def people_names(ids) -> dict[int, str]:
    """Full names (the username when a person has none) of these users."""
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {
        user.pk: user.get_full_name() or user.username
        for user in users.only("first_name", "last_name", "username")
    }


def venue_names() -> dict[str, str]:
    return dict(Venue.choices)


def person_name(path: str):
    """A person's full name (or username) through the relation `path` ("assignee"), for
    `annotate` in row lists; "Unassigned" without one."""
    full = Trim(
        Concat(F(f"{path}__first_name"), Value(" "), F(f"{path}__last_name"), output_field=CharField())
    )
    return Coalesce(
        NullIf(full, Value("")), F(f"{path}__username"), Value(UNASSIGNED), output_field=CharField()
    )


def sorted_by_name(names: dict, keys) -> list:
    """The keys in the order of their names, the unnamed (None) last."""
    return sorted(keys, key=lambda key: (key is None, names.get(key, UNASSIGNED).lower()))
