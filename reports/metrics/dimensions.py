"""Names for the breakdowns' rows (tiers, people, venues), each read in one query (once per
report while `names_kept()`), and the SQL expression of a person's name for row lists."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim

from accounts.models import Tier, Venue

UNASSIGNED = "Unassigned"


# While a report is built: {"tiers": {pk: name} or None, "people": {pk: name or None}}.
_KEPT: ContextVar[dict | None] = ContextVar("reports_names_kept", default=None)


@contextmanager
def names_kept():
    """Tiers and people read once for every section of the report built inside: each section
    names its rows, mostly the same few people."""
    token = _KEPT.set({"tiers": None, "people": {}})
    try:
        yield
    finally:
        _KEPT.reset(token)


def tier_names() -> dict[int, str]:
    kept = _KEPT.get()
    if kept is not None and kept["tiers"] is not None:
        return dict(kept["tiers"])
    names = dict(Tier.objects.order_by("rank").values_list("pk", "name"))
    if kept is not None:
        kept["tiers"] = names
    return dict(names)


def tier_order() -> list[int]:
    return list(Tier.objects.order_by("rank").values_list("pk", flat=True))


def people_names(ids) -> dict[int, str]:
    """Full names (the username when a person has none) of these users."""
    ids = {pk for pk in ids if pk is not None}
    kept = _KEPT.get()
    known = {} if kept is None else kept["people"]
    missing = ids - known.keys()
    if missing:
        known.update(dict.fromkeys(missing))  # None: no such user (kept, so not asked again)
        users = get_user_model().objects.filter(pk__in=missing).only("first_name", "last_name", "username")
        known.update({user.pk: user.get_full_name() or user.username for user in users})
    return {pk: known[pk] for pk in ids if known[pk] is not None}


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
