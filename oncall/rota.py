"""Who is on call, at any instant: pure arithmetic over a rota's `RotaSpec` (no database once the
spec is built; `rota_specs` builds any number of them in three queries).

The rules:

- A layer's rotation is wall-clock arithmetic in the rota's time zone. The anchor is the first
  hand-off (`starts_on` at `handoff_time`, local); shift k starts when the local clock first reads
  anchor + k × rotation, so the hand-off stays at 09:00 local across daylight-saving changes and a
  shift that spans one is an hour shorter or longer. Shift k belongs to member k mod n; before the
  anchor nobody is on call.
- A hand-off whose wall time the clocks skip (02:30 on New York's spring-forward night) happens
  at the jump (03:00 EDT), the first moment the clock reads past it. In the hour the clocks repeat
  after falling back, time is read as standing still at the last wall time shown before the
  change, so a hand-off happens once, at the first 01:30, and the rotation never steps back.
- An override covers its layer from `starts_at` (included) to `ends_at` (excluded), whatever the
  rotation says; where overrides overlap, the latest made wins (`created_at`, then id).

`on_call_at` costs a few microseconds: one zone conversion, one division and a bisect over the
layer's overrides, flattened once when the spec is built."""

import datetime as dt
import heapq
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.utils import timezone

from oncall.models import Rota, RotaLayer, RotaMember, RotaOverride

PRIMARY = 1
ONE_DAY = dt.timedelta(days=1)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
UTC = dt.UTC


@dataclass(frozen=True)
class OverrideSpec:
    """Someone covering a layer over [starts_at, ends_at); `made` orders overlapping overrides
    (the greatest wins)."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    user_id: int
    made: tuple = ()


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its members in rotation order and its overrides sorted by start. The overrides
    are flattened once into disjoint `cover` pieces (start, end, user id) that a bisect reads."""

    position: int
    name: str
    member_ids: tuple[int, ...]
    overrides: tuple[OverrideSpec, ...] = ()
    cover_starts: tuple[dt.datetime, ...] = field(init=False, repr=False, compare=False)
    cover_ends: tuple[dt.datetime, ...] = field(init=False, repr=False, compare=False)
    cover_users: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        overrides = tuple(
            sorted(
                (
                    OverrideSpec(o.starts_at.astimezone(UTC), o.ends_at.astimezone(UTC), o.user_id, o.made)
                    for o in self.overrides
                    if o.ends_at > o.starts_at
                ),
                key=lambda o: (o.starts_at, o.made),
            )
        )
        cover = _flatten(overrides)
        object.__setattr__(self, "overrides", overrides)
        object.__setattr__(self, "cover_starts", tuple(piece[0] for piece in cover))
        object.__setattr__(self, "cover_ends", tuple(piece[1] for piece in cover))
        object.__setattr__(self, "cover_users", tuple(piece[2] for piece in cover))

    @property
    def user_ids(self) -> frozenset[int]:
        """Everyone this layer may put on call: its members and whoever covers an override."""
        return frozenset(self.member_ids) | {o.user_id for o in self.overrides}


@dataclass(frozen=True)
class RotaSpec:
    """A rota as the arithmetic needs it. `anchor` is the local (naive) wall time of the first
    hand-off; `layers` maps position (1 is the primary) to the layer."""

    rota_id: int
    zone: ZoneInfo
    anchor: dt.datetime
    rotation: dt.timedelta
    layers: Mapping[int, LayerSpec]

    @property
    def user_ids(self) -> frozenset[int]:
        return frozenset().union(*(layer.user_ids for layer in self.layers.values()))


@dataclass(frozen=True)
class Shift:
    """Who is on call in a layer over [starts_at, ends_at): `user_id` None when nobody is."""

    user_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    from_override: bool = False


class Gap(NamedTuple):
    starts_at: dt.datetime
    ends_at: dt.datetime


def _flatten(overrides: tuple[OverrideSpec, ...]) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """Disjoint pieces of time with the override that wins each (the latest made among those
    covering it); touching pieces of one person are joined. One sweep, O(n log n)."""
    if not overrides:
        return []
    rank = {id(o): number for number, o in enumerate(sorted(overrides, key=lambda o: o.made))}
    edges = sorted({o.starts_at for o in overrides} | {o.ends_at for o in overrides})
    covering: list[tuple[int, dt.datetime, int]] = []  # (-rank, ends_at, user_id): the winner on top
    pieces: list[tuple[dt.datetime, dt.datetime, int]] = []
    upcoming = 0
    for start, end in pairwise(edges):
        while upcoming < len(overrides) and overrides[upcoming].starts_at <= start:
            override = overrides[upcoming]
            heapq.heappush(covering, (-rank[id(override)], override.ends_at, override.user_id))
            upcoming += 1
        while covering and covering[0][1] <= start:
            heapq.heappop(covering)
        if not covering:
            continue
        user_id = covering[0][2]
        if pieces and pieces[-1][1] == start and pieces[-1][2] == user_id:
            pieces[-1] = (pieces[-1][0], end, user_id)
        else:
            pieces.append((start, end, user_id))
    return pieces


# ---- the rotation's arithmetic ---------------------------------------------------------------


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} is naive: give an aware datetime.")
    return at


def _wall(spec: RotaSpec, at: dt.datetime) -> dt.datetime:
    """The rota's wall clock at `at`, read as never going back (see the module docstring)."""
    local = _aware(at).astimezone(spec.zone)
    if local.fold:
        return _last_wall_before_fall_back(spec.zone, at)
    return local.replace(tzinfo=None)


def _last_wall_before_fall_back(zone: ZoneInfo, at: dt.datetime) -> dt.datetime:
    """For an instant in a repeated hour (its second pass), the last wall time the clock showed
    before it went back. Bisects for the change, which happened less than the offset's drop ago:
    about 35 conversions, an hour a year."""
    local = at.astimezone(zone)
    drop = local.replace(fold=0).utcoffset() - local.utcoffset()
    before, after = at.astimezone(UTC) - drop, at.astimezone(UTC)  # first pass, second pass
    while after - before > ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).fold:
            after = middle
        else:
            before = middle
    return before.astimezone(zone).replace(tzinfo=None)


def shift_index(spec: RotaSpec, at: dt.datetime) -> int:
    """Which shift of the rotation runs at `at`: 0 from the first hand-off, negative before it."""
    return (_wall(spec, at) - spec.anchor) // spec.rotation


def handoff_at(spec: RotaSpec, index: int) -> dt.datetime:
    """The instant (UTC) shift `index` starts: when the local clock first reads its wall time."""
    wall = spec.anchor + index * spec.rotation
    instant = wall.replace(tzinfo=spec.zone).astimezone(UTC)  # fold 0: a repeated time's first pass
    if instant.astimezone(spec.zone).replace(tzinfo=None) == wall:
        return instant
    # Skipped by spring forward: zoneinfo reads it with the offset after the change (an instant
    # before the jump) or before it (after the jump); the hand-off is the jump itself.
    before = wall.replace(tzinfo=spec.zone, fold=1).astimezone(UTC)
    after = instant
    while after - before > ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(spec.zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return after


def handoffs(spec: RotaSpec, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every hand-off instant in [start, end), in order (the same for every layer)."""
    found = []
    index = max(shift_index(spec, start), 0)
    while (instant := handoff_at(spec, index)) < end:
        if instant >= start:
            found.append(instant)
        index += 1
    return found


def _override_at(layer: LayerSpec, at: dt.datetime) -> int | None:
    piece = bisect_right(layer.cover_starts, at) - 1
    if piece >= 0 and at < layer.cover_ends[piece]:
        return layer.cover_users[piece]
    return None


def on_call_at(spec: RotaSpec, layer_position: int, at: dt.datetime) -> int | None:
    """The id of who is on call in the layer at `at`: the winning override covering it, else the
    rotation's member; None before the rota starts or for a layer the rota does not have.
    Raises ValueError for a naive `at`."""
    layer = spec.layers.get(layer_position)
    if layer is None:
        return None
    if layer.cover_starts:
        covering = _override_at(layer, _aware(at))
        if covering is not None:
            return covering
    if not layer.member_ids:
        return None
    index = shift_index(spec, at)
    if index < 0:
        return None
    return layer.member_ids[index % len(layer.member_ids)]


def _resolve(spec: RotaSpec, layer: LayerSpec | None, at: dt.datetime) -> tuple[int | None, bool]:
    if layer is None:
        return None, False
    covering = _override_at(layer, at) if layer.cover_starts else None
    if covering is not None:
        return covering, True
    return on_call_at(spec, layer.position, at), False


def shifts(spec: RotaSpec, layer_position: int, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """Who is on call in the layer over [start, end), as contiguous shifts that cover it exactly,
    split at each hand-off and each edge of an override. An override that crosses a hand-off is
    one shift, and so is a stretch with nobody on call (user_id None). Empty when end <= start."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if end <= start:
        return []
    layer = spec.layers.get(layer_position)
    edges = {start, end}
    if layer is not None and layer.member_ids:
        edges.update(handoffs(spec, start, end))
    if layer is not None and layer.cover_starts:
        piece = max(bisect_right(layer.cover_starts, start) - 1, 0)
        while piece < len(layer.cover_starts) and layer.cover_starts[piece] < end:
            edges.update(
                edge for edge in (layer.cover_starts[piece], layer.cover_ends[piece]) if start < edge < end
            )
            piece += 1
    ordered = sorted(edges)
    found: list[Shift] = []
    for piece_start, piece_end in pairwise(ordered):
        user_id, from_override = _resolve(spec, layer, piece_start)
        last = found[-1] if found else None
        if (
            last is not None
            and last.user_id == user_id
            and last.from_override == from_override
            and (from_override or user_id is None)
        ):
            found[-1] = Shift(user_id, last.starts_at, piece_end, from_override)
        else:
            found.append(Shift(user_id, piece_start, piece_end, from_override))
    return found


def shift_at(spec: RotaSpec, layer_position: int, at: dt.datetime) -> Shift:
    """The whole shift running at `at`, as `shifts` would cut it: since when and until when.
    `starts_at` is None for a stretch with nobody on call that began before anything the spec
    knows (before the rota's first hand-off, with no earlier override)."""
    at = _aware(at).astimezone(UTC)
    layer = spec.layers.get(layer_position)
    if layer is None:
        return Shift(None, None, at + 100 * 365 * ONE_DAY)
    piece = bisect_right(layer.cover_starts, at) - 1
    if piece >= 0 and at < layer.cover_ends[piece]:
        return Shift(layer.cover_users[piece], layer.cover_starts[piece], layer.cover_ends[piece], True)
    earlier_end = layer.cover_ends[piece] if piece >= 0 else None
    later_start = layer.cover_starts[piece + 1] if piece + 1 < len(layer.cover_starts) else None
    index = shift_index(spec, at)
    if index < 0 or not layer.member_ids:
        starts, ends = earlier_end, later_start
        if layer.member_ids:
            first = handoff_at(spec, 0)
            ends = min(ends, first) if ends else first
        return Shift(None, starts, ends or at + 100 * 365 * ONE_DAY)
    starts, ends = handoff_at(spec, index), handoff_at(spec, index + 1)
    if earlier_end is not None:
        starts = max(starts, earlier_end)
    if later_start is not None:
        ends = min(ends, later_start)
    return Shift(layer.member_ids[index % len(layer.member_ids)], starts, ends)


def coverage_gaps(
    spec: RotaSpec, start: dt.datetime, end: dt.datetime, *, active_user_ids: Iterable[int]
) -> list[Gap]:
    """The stretches of [start, end) in which the primary layer has nobody on call, or only
    someone not in `active_user_ids` (deactivated, or no longer a Specialist or Admin);
    touching stretches are joined."""
    active = active_user_ids if isinstance(active_user_ids, (set, frozenset)) else set(active_user_ids)
    gaps: list[Gap] = []
    for shift in shifts(spec, PRIMARY, start, end):
        if shift.user_id is not None and shift.user_id in active:
            continue
        if gaps and gaps[-1].ends_at == shift.starts_at:
            gaps[-1] = Gap(gaps[-1].starts_at, shift.ends_at)
        else:
            gaps.append(Gap(shift.starts_at, shift.ends_at))
    return gaps


# ---- building specs from the database --------------------------------------------------------


def _spec(rota: Rota, layers: Iterable[LayerSpec]) -> RotaSpec:
    return RotaSpec(
        rota_id=rota.pk,
        zone=ZoneInfo(rota.time_zone),
        anchor=dt.datetime.combine(rota.starts_on, rota.handoff_time.replace(tzinfo=None)),
        rotation=dt.timedelta(days=rota.rotation_days),
        layers={layer.position: layer for layer in layers},
    )


def rota_spec(rota: Rota) -> RotaSpec:
    """The spec of one rota from its prefetched `layers`, their `members` and `overrides`
    (whichever overrides were prefetched are the ones it knows)."""
    return _spec(
        rota,
        (
            LayerSpec(
                position=layer.position,
                name=layer.name,
                member_ids=tuple(m.user_id for m in sorted(layer.members.all(), key=lambda m: m.position)),
                overrides=tuple(
                    OverrideSpec(o.starts_at, o.ends_at, o.user_id, (o.created_at, o.pk))
                    for o in layer.overrides.all()
                ),
            )
            for layer in rota.layers.all()
        ),
    )


def rota_specs(
    rotas: Iterable[Rota], *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[int, RotaSpec]:
    """The specs of these rotas by id, in three queries however many rotas, layers and members:
    their layers, their members, and the overrides that end after `since` (default: a day ago)
    and, with `until`, start before it. Rows are read as tuples: a page with a year of overrides
    builds no model instance for them."""
    rotas = list(rotas)
    if not rotas:
        return {}
    ids = [r.pk for r in rotas]
    since = since if since is not None else timezone.now() - ONE_DAY
    members: dict[int, list[int]] = defaultdict(list)
    for layer_id, user_id in (
        RotaMember.objects.filter(layer__rota_id__in=ids)
        .order_by("layer_id", "position")
        .values_list("layer_id", "user_id")
    ):
        members[layer_id].append(user_id)
    overrides = RotaOverride.objects.filter(layer__rota_id__in=ids, ends_at__gt=since)
    if until is not None:
        overrides = overrides.filter(starts_at__lt=until)
    covers: dict[int, list[OverrideSpec]] = defaultdict(list)
    for layer_id, user_id, starts_at, ends_at, created_at, pk in overrides.values_list(
        "layer_id", "user_id", "starts_at", "ends_at", "created_at", "pk"
    ):
        covers[layer_id].append(OverrideSpec(starts_at, ends_at, user_id, (created_at, pk)))
    layers: dict[int, list[LayerSpec]] = defaultdict(list)
    for pk, rota_id, position, name in RotaLayer.objects.filter(rota_id__in=ids).values_list(
        "pk", "rota_id", "position", "name"
    ):
        layers[rota_id].append(LayerSpec(position, name, tuple(members[pk]), tuple(covers[pk])))
    return {rota.pk: _spec(rota, layers[rota.pk]) for rota in rotas}
