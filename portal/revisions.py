"""Versioned text: every numbered, never-changed revision of something (a market's rules, a
rulebook section, a playbook, a response template) is a `Revision`, numbered and added one way.

    class PlaybookRevision(Revision):
        parent_field = "playbook"            # the foreign key to what is versioned
        current_field = "current_revision"   # the parent's pointer to its newest revision
        counter_field = "revision_count"     # the parent's count of revisions, if it keeps one

        playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="revisions")
        ...

        class Meta:
            ordering = ["playbook", "-number"]
            constraints = [
                models.UniqueConstraint(fields=["playbook", "number"], name="playbook_revision_number_unique")
            ]

    revision = revision_add(PlaybookRevision, parent=playbook, body=..., author=by, ...)

Each model keeps its own ordering and its uniquely named constraint in its own `Meta` (a
constraint declared here would need a templated name, renaming the existing ones); `check()`
holds every subclass to the pattern, so `manage.py check` fails for one that strays from it.
"""

from typing import ClassVar, TypeVar

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Max

R = TypeVar("R", bound="Revision")


class Revision(models.Model):
    """Abstract base of a numbered revision: 1, 2, 3… per parent, newest first, never reused."""

    parent_field: ClassVar[str]
    current_field: ClassVar[str]
    counter_field: ClassVar[str | None] = None

    number = models.PositiveIntegerField()

    class Meta:
        abstract = True

    @classmethod
    def check(cls, **kwargs):
        errors = super().check(**kwargs)
        if cls._meta.abstract:
            return errors
        parent_field = getattr(cls, "parent_field", "")
        try:
            parent = cls._meta.get_field(parent_field)
        except FieldDoesNotExist:
            parent = None
        if not isinstance(parent, models.ForeignKey):
            return [*errors, _error(cls, f"parent_field “{parent_field}” is not a foreign key of the model.")]
        if list(cls._meta.ordering) != [parent_field, "-number"]:
            errors.append(_error(cls, f'Meta.ordering must be ["{parent_field}", "-number"].'))
        if not any(
            isinstance(c, models.UniqueConstraint) and tuple(c.fields) == (parent_field, "number")
            for c in cls._meta.constraints
        ):
            errors.append(_error(cls, f'Meta needs UniqueConstraint(fields=["{parent_field}", "number"]).'))
        for name in (getattr(cls, "current_field", ""), cls.counter_field):
            if name is not None and name not in {f.name for f in parent.related_model._meta.get_fields()}:
                errors.append(_error(cls, f"{parent.related_model.__name__} has no field “{name}”."))
        return errors


def _error(model: type[Revision], message: str) -> checks.Error:
    return checks.Error(message, obj=model, id="portal.E101")


def revision_next_number(model: type[Revision], *, parent: models.Model) -> int:
    """The number the parent's next revision takes: its counter plus one where it keeps one,
    else the highest number so far plus one. Two writers get different numbers only while the
    caller holds the parent's row lock; the unique (parent, number) constraint refuses the rest."""
    if model.counter_field is not None:
        return getattr(parent, model.counter_field) + 1
    last = model._default_manager.filter(**{model.parent_field: parent}).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


def revision_add(model: type[R], *, parent: models.Model, **fields) -> R:
    """Create the parent's next revision from `fields` (everything but the parent and the
    number) and make it the parent's current one, moving its counter where it keeps one.

    Call it inside the service's transaction, with the parent locked (`select_for_update`) or
    created in that transaction. The parent is changed in memory only: the service saves it,
    together with whatever else it changes, and keeps its own validation, events and outbox."""
    number = revision_next_number(model, parent=parent)
    revision = model._default_manager.create(**{model.parent_field: parent}, number=number, **fields)
    setattr(parent, model.current_field, revision)
    if model.counter_field is not None:
        setattr(parent, model.counter_field, number)
    return revision
