"""Writes of the on-call rota: a rota saved whole with its layers and members (or not at all),
overrides added and deleted, hand-off notes. Each raises ValidationError by field with a message
a person can act on, and writes nothing when it does."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q

from oncall.models import EscalationStep, HandoffNote, Rota, RotaLayer, RotaMember, RotaOverride
from portal.models import User, known_time_zones
from portal.roles import Role, has_role

MIN_ROTATION_DAYS, MAX_ROTATION_DAYS = 1, 90
MAX_LAYERS = 10
MAX_MEMBERS = 100
MAX_OVERRIDE_DAYS = 366
MAX_NOTE_CHARS = HandoffNote._meta.get_field("body").max_length
ON_CALL_ROLES = (Role.SPECIALIST, Role.ADMIN)
LAYER_NAMES = ("Primary", "Secondary", "Tertiary")


def default_layer_name(position: int) -> str:
    return LAYER_NAMES[position - 1] if position <= len(LAYER_NAMES) else f"Layer {position}"


def layer_field(position: int) -> str:
    """The error key of a layer's problems (and the rota form's field for its members)."""
    return f"layer_{position}"


@dataclass(frozen=True)
class LayerInput:
    """A layer as typed: its name and its people in rotation order (position by list order)."""

    name: str
    members: Sequence[User] = field(default_factory=tuple)


def _person(user: User) -> str:
    return user.get_username()


def _on_call_ids(users: Sequence[User]) -> set[int]:
    """Which of these people can be on call (active Specialists and Admins): one query."""
    return set(
        User.objects.filter(pk__in={u.pk for u in users}, is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=ON_CALL_ROLES))
        .values_list("pk", flat=True)
    )


def _layers_problems(layers: Sequence[LayerInput]) -> dict[str, list[str]]:
    if not layers:
        return {"layers": ["A rota needs at least one layer (the primary) with at least one person in it."]}
    if len(layers) > MAX_LAYERS:
        return {"layers": [f"A rota has {MAX_LAYERS} layers at most."]}
    errors: dict[str, list[str]] = {}
    names_seen: set[str] = set()
    can_be_on_call = _on_call_ids([member for layer in layers for member in layer.members])
    for position, layer in enumerate(layers, 1):
        problems = []
        name = (layer.name or "").strip() or default_layer_name(position)
        if len(name) > RotaLayer._meta.get_field("name").max_length:
            problems.append(f"{name[:20]}…: a layer's name is 60 characters at most.")
        if name.lower() in names_seen:
            problems.append(f"Two layers are named “{name}”: give each its own name.")
        names_seen.add(name.lower())
        if not layer.members:
            problems.append(f"{name}: list at least one person (a layer with nobody in it pages nobody).")
        if len(layer.members) > MAX_MEMBERS:
            problems.append(f"{name}: {MAX_MEMBERS} people at most.")
        seen: set[int] = set()
        for member in layer.members:
            if member.pk in seen:
                problems.append(f"{name}: {_person(member)} is listed twice; each person once per layer.")
            seen.add(member.pk)
            if member.pk not in can_be_on_call:
                problems.append(
                    f"{name}: {_person(member)} cannot be on call (only active Specialists and Admins can)."
                )
        if problems:
            errors[layer_field(position)] = list(dict.fromkeys(problems))
    return errors


def _removed_layers_problems(rota: Rota | None, kept: int) -> list[str]:
    """A layer an escalation policy pages cannot be removed: its step would page nobody."""
    if rota is None:
        return []
    used = sorted(
        set(
            EscalationStep.objects.filter(policy__rota=rota, layer_position__gt=kept).values_list(
                "layer_position", flat=True
            )
        )
    )
    return [
        f"Layer {position} is paged by an escalation policy: change the policy before removing it."
        for position in used
    ]


def rota_problems(
    *,
    rota: Rota | None,
    name: str,
    time_zone: str,
    starts_on: dt.date | None,
    handoff_time: dt.time | None,
    rotation_days: int | None,
    webhook_url: str,
    layers: Sequence[LayerInput],
) -> dict[str, list[str]]:
    """Every problem with the rota as it would be saved, by field ("name", "time_zone",
    "starts_on", "handoff_time", "rotation_days", "webhook_url", "layers", "layer_<n>"); empty when
    it can be saved. Reads the database for the name and the escalation policies."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the rota a name."]
    elif len(name) > Rota._meta.get_field("name").max_length:
        errors["name"] = ["A rota's name is 120 characters at most."]
    elif Rota.objects.filter(name__iexact=name).exclude(pk=getattr(rota, "pk", None)).exists():
        errors["name"] = [f"There is already a rota named “{name}”."]
    if time_zone not in known_time_zones():
        errors["time_zone"] = [
            f"“{time_zone}” is not a known time zone: use an IANA name such as Europe/London."
        ]
    if starts_on is None:
        errors["starts_on"] = ["Give the date of the first hand-off."]
    if handoff_time is None:
        errors["handoff_time"] = ["Give the local time of each hand-off, such as 09:00."]
    if rotation_days is None or not MIN_ROTATION_DAYS <= rotation_days <= MAX_ROTATION_DAYS:
        errors["rotation_days"] = [
            f"A shift lasts from {MIN_ROTATION_DAYS} to {MAX_ROTATION_DAYS} days (7 is a week)."
        ]
    if webhook_url:
        try:
            URLValidator(schemes=["https", "http"])(webhook_url)
        except ValidationError:
            errors["webhook_url"] = ["Give the webhook's full address, starting with https://."]
    errors.update(_layers_problems(layers))
    removed = _removed_layers_problems(rota, len(layers)) if layers else []
    if removed:
        errors.setdefault("layers", []).extend(removed)
    return errors


@transaction.atomic
def rota_save(
    *,
    rota: Rota | None = None,
    name: str,
    time_zone: str,
    starts_on: dt.date,
    handoff_time: dt.time,
    rotation_days: int = 7,
    webhook_url: str = "",
    is_active: bool = True,
    layers: Sequence[LayerInput],
) -> Rota:
    """Create a rota (`rota=None`) or replace an existing one's settings, layers and members with
    these. Layers keep their position (1 is the primary): a kept layer keeps its overrides; a
    layer left out is deleted with its overrides. Raises ValidationError by field and writes
    nothing when any input is wrong. Safe to retry: the same input gives the same rota."""
    layers = list(layers)
    webhook_url = (webhook_url or "").strip()
    errors = rota_problems(
        rota=rota,
        name=name,
        time_zone=time_zone,
        starts_on=starts_on,
        handoff_time=handoff_time,
        rotation_days=rotation_days,
        webhook_url=webhook_url,
        layers=layers,
    )
    if errors:
        raise ValidationError(errors)
    rota = Rota() if rota is None else Rota.objects.select_for_update().get(pk=rota.pk)
    rota.name = name.strip()
    rota.time_zone = time_zone
    rota.starts_on = starts_on
    rota.handoff_time = handoff_time.replace(tzinfo=None)
    rota.rotation_days = rotation_days
    rota.webhook_url = webhook_url
    rota.is_active = is_active
    rota.save()
    _layers_save(rota, layers)
    return rota


def _layers_save(rota: Rota, layers: list[LayerInput]) -> None:
    existing = {layer.position: layer for layer in rota.layers.all()}
    RotaLayer.objects.filter(rota=rota, position__gt=len(layers)).delete()
    # Names are unique per rota: park the kept layers' names first, so two layers can swap names.
    for layer in existing.values():
        if layer.position <= len(layers):
            layer.name = f"~parked {layer.pk}"
            layer.save(update_fields=["name"])
    saved = []
    for position, typed in enumerate(layers, 1):
        layer = existing.get(position) or RotaLayer(rota=rota, position=position)
        layer.name = (typed.name or "").strip() or default_layer_name(position)
        layer.save()
        saved.append(layer)
    RotaMember.objects.filter(layer__in=saved).delete()
    RotaMember.objects.bulk_create(
        RotaMember(layer=layer, user=member, position=number)
        for layer, typed in zip(saved, layers, strict=True)
        for number, member in enumerate(typed.members, 1)
    )


# ---- overrides -------------------------------------------------------------------------------


@transaction.atomic
def override_create(
    *,
    rota: Rota,
    layer: RotaLayer,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    note: str = "",
    by: User,
) -> RotaOverride:
    """`user` covers the rota's layer from `starts_at` to `ends_at`, whatever the rotation says
    (and over any earlier override it overlaps: the latest made wins). Raises ValidationError by
    field ("layer", "user", "starts_at", "ends_at", "reason", "note") and saves nothing when the
    layer is another rota's, the person cannot be on call, or the times are wrong. Not safe to
    retry blindly: a second call makes a second override (the same cover, so harmless)."""
    errors: dict[str, list[str]] = {}
    if layer.rota_id != rota.pk:
        errors["layer"] = [f"That layer belongs to another rota, not “{rota.name}”."]
    if not _on_call_ids([user]):
        errors["user"] = [f"{_person(user)} cannot be on call: only active Specialists and Admins can."]
    if starts_at is None or starts_at.tzinfo is None:
        errors["starts_at"] = ["Give the date and time the cover starts."]
    if ends_at is None or ends_at.tzinfo is None:
        errors["ends_at"] = ["Give the date and time the cover ends."]
    elif starts_at is not None and starts_at.tzinfo is not None:
        if ends_at <= starts_at:
            errors["ends_at"] = ["The cover must end after it starts."]
        elif ends_at - starts_at > dt.timedelta(days=MAX_OVERRIDE_DAYS):
            errors["ends_at"] = ["An override lasts a year at most: is the end date right?"]
    if reason not in RotaOverride.Reason.values:
        errors["reason"] = ["Choose why: holiday, sick day, swap or other."]
    note = (note or "").strip()
    if len(note) > RotaOverride._meta.get_field("note").max_length:
        errors["note"] = ["The note is 300 characters at most."]
    if errors:
        raise ValidationError(errors)
    return RotaOverride.objects.create(
        layer=layer,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        note=note,
        created_by=by,
    )


@transaction.atomic
def override_delete(*, override: RotaOverride) -> None:
    """Delete the override: the rotation (or an earlier override) decides that time again.
    Safe to retry: deleting one already gone does nothing."""
    RotaOverride.objects.filter(pk=override.pk).delete()


# ---- hand-off notes --------------------------------------------------------------------------


def _is_on_rota(rota: Rota, user: User) -> bool:
    return (
        RotaMember.objects.filter(layer__rota=rota, user=user).exists()
        or RotaOverride.objects.filter(layer__rota=rota, user=user).exists()
    )


@transaction.atomic
def handoff_note_create(*, rota: Rota, author: User, body: str) -> HandoffNote:
    """A note from the person going off shift to the next. Raises ValidationError on "body"
    (empty, or longer than 5,000 characters) or NON_FIELD_ERRORS (the author is not a Specialist
    on the rota: a member of one of its layers or covering one of its overrides), and saves
    nothing. Not safe to retry blindly: a second call makes a second note."""
    text = (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not text:
        errors["body"] = ["Write the note: what the next person on call needs to know."]
    elif len(text) > MAX_NOTE_CHARS:
        errors["body"] = [
            f"A hand-off note is {MAX_NOTE_CHARS:,} characters at most (this one has {len(text):,})."
        ]
    if not has_role(author, Role.SPECIALIST) or not _is_on_rota(rota, author):
        errors[NON_FIELD_ERRORS] = [f"Only Specialists on the “{rota.name}” rota write its hand-off notes."]
    if errors:
        raise ValidationError(errors)
    return HandoffNote.objects.create(rota=rota, author=author, body=text)
