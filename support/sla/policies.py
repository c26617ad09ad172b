"""Writes of the ordered SLA policy list: save, delete, reorder. Every write leaves the list
valid: targets within bounds, known condition codes, and no active catch-all (a policy without
any condition) before another active policy, which it would hide."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Max

from accounts.models import Tier, Venue
from disputes.models import DisputeCase
from support.models import ONE_YEAR_MINUTES, BusinessCalendar, SlaPolicy
from support.sla.deleting import delete_unless_in_use

CONDITION_CHOICES = {
    "kinds": SlaPolicy.Kind,
    "case_categories": DisputeCase.Category,
    "priorities": DisputeCase.Priority,
    "venues": Venue,
}


@dataclass(frozen=True)
class PolicyInput:
    """A policy as a form gives it. Empty conditions match anything; a target of None means
    the policy sets no target for that metric (at least one is needed)."""

    name: str
    calendar: BusinessCalendar
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    tiers: Sequence[Tier] = ()
    kinds: Sequence[str] = ()
    case_categories: Sequence[str] = ()
    priorities: Sequence[str] = ()
    venues: Sequence[str] = ()
    is_active: bool = True
    pause_while_waiting: bool = True
    warn_minutes: int = 15
    escalate_on_breach: bool = False

    @property
    def is_catch_all(self) -> bool:
        return not (self.tiers or any(getattr(self, name) for name in CONDITION_CHOICES))


def policy_is_catch_all(policy: SlaPolicy) -> bool:
    """A policy without any condition (reads `tiers` as prefetched)."""
    return not (policy.tiers.all() or any(getattr(policy, name) for name in SlaPolicy.LIST_CONDITIONS))


def _targets_problems(data: PolicyInput) -> dict[str, list[str]]:
    errors = {}
    for name in SlaPolicy.TARGET_FIELDS:
        value = getattr(data, name)
        if value is not None and not 0 < value <= ONE_YEAR_MINUTES:
            errors[name] = [f"A target is between 1 minute and one year ({ONE_YEAR_MINUTES:,} minutes)."]
    if all(getattr(data, name) is None for name in SlaPolicy.TARGET_FIELDS):
        errors[NON_FIELD_ERRORS] = ["Set at least one target: first response, next response or resolution."]
    if data.warn_minutes is None or not 0 <= data.warn_minutes <= ONE_YEAR_MINUTES:
        errors["warn_minutes"] = [
            f"Warn between 0 minutes and one year ({ONE_YEAR_MINUTES:,} minutes) ahead."
        ]
    return errors


def _conditions_problems(data: PolicyInput) -> dict[str, list[str]]:
    errors = {}
    for name, choices in CONDITION_CHOICES.items():
        unknown = [value for value in getattr(data, name) if value not in choices.values]
        if unknown:
            allowed = ", ".join(choices.values)
            errors[name] = [
                f"Unknown {name.replace('_', ' ')}: {', '.join(map(str, unknown))} (use {allowed})."
            ]
    return errors


def catch_all_problems(order: Sequence[tuple[str, bool, bool]]) -> list[str]:
    """Given the policies in order as (name, is_active, is_catch_all), the complaint when an
    active catch-all comes before another active policy."""
    active = [(name, catch_all) for name, is_active, catch_all in order if is_active]
    for (name, catch_all), (next_name, _) in pairwise(active):
        if catch_all:
            return [
                f"“{name}” has no condition, so it matches everything: it must be the last active "
                f"policy, but “{next_name}” comes after it."
            ]
    return []


def _order_after_save(
    policy: SlaPolicy | None, data: PolicyInput, position: int
) -> list[tuple[str, bool, bool]]:
    """The list as (name, is_active, is_catch_all) once `data` is saved at `position`; a new
    policy goes before the one holding its position, which moves down."""
    others = SlaPolicy.objects.exclude(pk=getattr(policy, "pk", None)).prefetch_related("tiers")
    rows = [(p.position, 1, p.name, p.is_active, policy_is_catch_all(p)) for p in others]
    rows.append((position, 0, data.name.strip(), data.is_active, data.is_catch_all))
    return [row[2:] for row in sorted(rows)]


def _position_for_new(data: PolicyInput) -> int:
    """A new catch-all goes last; any other new policy goes just before the first active
    catch-all (so adding a policy never trips over the catch-all), else last."""
    last = SlaPolicy.objects.aggregate(last=Max("position"))["last"] or 0
    if data.is_catch_all or not data.is_active:
        return last + 1
    for existing in SlaPolicy.objects.filter(is_active=True).prefetch_related("tiers"):
        if policy_is_catch_all(existing):
            return existing.position
    return last + 1


def policy_problems(*, policy: SlaPolicy | None, data: PolicyInput, position: int) -> dict[str, list[str]]:
    """Every problem with saving `data` at `position` (field name -> messages); empty when fine."""
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["Give the policy a name."]
    elif SlaPolicy.objects.filter(name__iexact=name).exclude(pk=getattr(policy, "pk", None)).exists():
        errors["name"] = [f"There is already a policy named “{name}”."]
    if data.calendar is None or data.calendar.pk is None:
        errors["calendar"] = ["Choose the calendar the targets are counted in."]
    errors.update(_conditions_problems(data))
    for key, messages in _targets_problems(data).items():
        errors.setdefault(key, []).extend(messages)
    if not errors:
        order = catch_all_problems(_order_after_save(policy, data, position))
        if order:
            errors[NON_FIELD_ERRORS] = order
    return errors


def _shift_from(position: int) -> None:
    """Make room at `position`: every policy from there moves one down (in two steps, so the
    unique position never sees two equal values on any database)."""
    moving = list(
        SlaPolicy.objects.filter(position__gte=position).order_by("position").values_list("pk", "position")
    )
    top = (SlaPolicy.objects.aggregate(top=Max("position"))["top"] or 0) + len(moving) + 1
    for offset, (pk, _) in enumerate(moving):
        SlaPolicy.objects.filter(pk=pk).update(position=top + offset)
    for pk, old in moving:
        SlaPolicy.objects.filter(pk=pk).update(position=old + 1)


@transaction.atomic
def policy_save(*, policy: SlaPolicy | None = None, data: PolicyInput) -> SlaPolicy:
    """Create a policy (`policy=None`; placed last if it is a catch-all, else just before the
    catch-all) or change one in place. Raises ValidationError by field ("name", "calendar",
    a target, "warn_minutes", a condition, or non-field for "no target" and the catch-all's
    place) and writes nothing then. Safe to retry for a change; a retried create is refused by
    the unique name."""
    list(SlaPolicy.objects.select_for_update().values_list("pk", flat=True))  # one list edit at a time
    if policy is not None:
        policy = SlaPolicy.objects.get(pk=policy.pk)
    position = policy.position if policy is not None else _position_for_new(data)
    errors = policy_problems(policy=policy, data=data, position=position)
    if errors:
        raise ValidationError(errors)
    if policy is None:
        _shift_from(position)
        policy = SlaPolicy(position=position)
    policy.name = data.name.strip()
    policy.calendar = data.calendar
    policy.is_active = data.is_active
    for name in SlaPolicy.TARGET_FIELDS:
        setattr(policy, name, getattr(data, name))
    for name in SlaPolicy.LIST_CONDITIONS:
        setattr(policy, name, sorted(set(getattr(data, name))))
    policy.pause_while_waiting = data.pause_while_waiting
    policy.warn_minutes = data.warn_minutes
    policy.escalate_on_breach = data.escalate_on_breach
    policy.save()
    policy.tiers.set(data.tiers)
    return policy


@transaction.atomic
def policies_reorder(*, order: Iterable[int]) -> list[SlaPolicy]:
    """Put the policies in this order (ids, every policy exactly once) and number them 1, 2, ...
    Raises ValidationError and changes nothing when ids are missing, unknown or repeated, or
    when an active catch-all would come before another active policy. Safe to retry."""
    order = list(order)
    policies = {p.pk: p for p in SlaPolicy.objects.select_for_update().prefetch_related("tiers")}
    if len(order) != len(set(order)) or set(order) != set(policies):
        raise ValidationError({"order": ["List every policy exactly once."]})
    problems = catch_all_problems(
        [(policies[pk].name, policies[pk].is_active, policy_is_catch_all(policies[pk])) for pk in order]
    )
    if problems:
        raise ValidationError({"order": problems})
    top = max((p.position for p in policies.values()), default=0) + 1
    for offset, pk in enumerate(order):  # first out of the way, then into place
        SlaPolicy.objects.filter(pk=pk).update(position=top + offset)
    for number, pk in enumerate(order, start=1):
        SlaPolicy.objects.filter(pk=pk).update(position=number)
        policies[pk].position = number
    return [policies[pk] for pk in order]


def policy_delete(*, policy: SlaPolicy) -> None:
    """Delete a policy. Raises ValidationError and deletes nothing while anything refers to it
    with a protecting key (the applied SLA clocks, from the next step on: declare their policy
    key on_delete=PROTECT and this refuses with their count). Deleting leaves the catch-all
    last, so the order needs no check."""
    delete_unless_in_use(policy, what=f"The policy “{policy.name}”")
