"""Reads of the on-call rota: who is on call, the permission-checked getter, and what /oncall/
and the My day panel show. Each costs a fixed number of queries however many rotas, layers,
members and overrides there are; the arithmetic is oncall.rota's."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from oncall.models import HandoffNote, Rota, RotaOverride
from oncall.rota import (
    Gap,
    LayerSpec,
    RotaSpec,
    Shift,
    coverage_gaps,
    handoffs,
    on_call_at,
    rota_specs,
    shift_at,
    shifts,
)
from portal.models import User
from portal.roles import Role
from portal.selectors import object_get_for_user

# Specialists, Leadership and Admins read the rota; Admins change it; Product does not see it.
ROTA_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
ROTA_EDITORS = (Role.ADMIN,)
# Who can be on call (a rota member or an override's cover): a Specialist or an Admin.
ON_CALL_ROLES = (Role.SPECIALIST, Role.ADMIN)
# Whoever takes notes on the rota: a Specialist on it.
NOTE_AUTHORS = (Role.SPECIALIST,)

CALENDAR_DAYS = 14
GAP_DAYS = 7
LATEST_NOTES = 5
# An override that ended during the current shift still decides since when someone is on call;
# a shift lasts 90 days at most (and an hour more across a daylight-saving change).
OVERVIEW_HISTORY = dt.timedelta(days=91)
# Overrides starting after this cannot change what the page shows: the calendar's 14 days, and
# until when the current shift runs (its hand-off is at most 90 days away).
OVERVIEW_AHEAD = dt.timedelta(days=91)


def rota_get_for_user(*, user, pk, to_change: bool = False) -> Rota:
    return object_get_for_user(
        Rota.objects.all(),
        user=user,
        roles=ROTA_EDITORS if to_change else ROTA_READERS,
        denied="Only Admins change the on-call rota."
        if to_change
        else "Your role does not include the rota.",
        missing="No such rota.",
        pk=pk,
    )


def override_get_for_user(*, user, pk) -> RotaOverride:
    """An override to change or delete: Admins only."""
    return object_get_for_user(
        RotaOverride.objects.select_related("layer__rota", "user"),
        user=user,
        roles=ROTA_EDITORS,
        denied="Only Admins change the on-call rota.",
        missing="No such override.",
        pk=pk,
    )


def on_call_users() -> QuerySet[User]:
    """People who may be on call: active Specialists and Admins (superusers too)."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=ON_CALL_ROLES))
        .distinct()
        .order_by("username")
    )


def _people(user_ids: Iterable[int]) -> dict[int, User]:
    """These people by id, each marked `can_be_on_call` (active, and a Specialist or an Admin):
    one query."""
    in_role = User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=ON_CALL_ROLES)
    people = User.objects.filter(pk__in=set(user_ids)).annotate(in_role=Exists(in_role))
    found = {}
    for person in people:
        person.can_be_on_call = person.is_active and (person.is_superuser or person.in_role)
        found[person.pk] = person
    return found


def who_is_on_call(rota: Rota, layer_position: int, at: dt.datetime) -> User | None:
    """Who is on call in the rota's layer (1 is the primary) at `at`, overrides included; None
    when nobody is. Four queries."""
    spec = rota_specs([rota], since=at)[rota.pk]
    user_id = on_call_at(spec, layer_position, at)
    return User.objects.filter(pk=user_id).first() if user_id is not None else None


# ---- /oncall/ --------------------------------------------------------------------------------


@dataclass
class ShiftView:
    """A shift with its person loaded, for a page."""

    shift: Shift
    person: User | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime
    is_handoff: bool = False  # starts at a hand-off of the rotation
    # In a calendar day: whether it starts or ends within the day (the page shows the time then)
    starts_within: bool = False
    ends_within: bool = False

    @property
    def from_override(self) -> bool:
        return self.shift.from_override

    @property
    def uncovered(self) -> bool:
        return self.person is None or not self.person.can_be_on_call


@dataclass
class LayerNow:
    layer: LayerSpec
    current: ShiftView


@dataclass
class CalendarDay:
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    cells: list[list[ShiftView]]  # per layer, in layer order
    handoffs: list[dt.datetime]


@dataclass
class RotaOverview:
    rota: Rota
    spec: RotaSpec
    layers: list[LayerSpec]
    now: list[LayerNow]
    days: list[CalendarDay]
    gaps: list[Gap]
    notes: list[HandoffNote] = field(default_factory=list)

    @property
    def people_ids(self) -> frozenset[int]:
        return self.spec.user_ids


def _view(shift: Shift, people: dict[int, User], handoff_set: frozenset = frozenset(), day=None) -> ShiftView:
    return ShiftView(
        shift=shift,
        person=people.get(shift.user_id) if shift.user_id is not None else None,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        is_handoff=shift.starts_at in handoff_set and not shift.from_override,
        starts_within=day is not None and shift.starts_at > day[0],
        ends_within=day is not None and shift.ends_at < day[1],
    )


def _day_starts(today: dt.date, zone, days: int) -> list[dt.datetime]:
    """Local midnights from `today`, one more than `days`, as instants."""
    return [
        dt.datetime.combine(today + dt.timedelta(days=n), dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        for n in range(days + 1)
    ]


def _calendar(spec: RotaSpec, layers: list[LayerSpec], people, day_starts, today) -> list[CalendarDay]:
    all_handoffs = frozenset(handoffs(spec, day_starts[0], day_starts[-1]))
    days = []
    for n, (start, end) in enumerate(pairwise(day_starts)):
        cells = [
            [
                _view(shift, people, all_handoffs, (start, end))
                for shift in shifts(spec, layer.position, start, end)
            ]
            for layer in layers
        ]
        days.append(
            CalendarDay(
                day=today + dt.timedelta(days=n),
                starts_at=start,
                ends_at=end,
                cells=cells,
                handoffs=sorted(h for h in all_handoffs if start <= h < end),
            )
        )
    return days


def _latest_notes(rota_ids: list[int]) -> dict[int, list[HandoffNote]]:
    """The latest LATEST_NOTES notes of each rota with their authors: one query."""
    notes = (
        HandoffNote.objects.filter(rota_id__in=rota_ids)
        .annotate(
            recency=Window(
                RowNumber(), partition_by=[F("rota_id")], order_by=[F("created_at").desc(), F("pk").desc()]
            )
        )
        .filter(recency__lte=LATEST_NOTES)
        .select_related("author")
        .order_by("rota_id", "recency")
    )
    by_rota: dict[int, list[HandoffNote]] = {pk: [] for pk in rota_ids}
    for note in notes:
        by_rota[note.rota_id].append(note)
    return by_rota


def oncall_overview(now: dt.datetime, *, zone=None) -> list[RotaOverview]:
    """Every active rota as /oncall/ shows it: who is on call now in each layer (since and until
    when), the next CALENDAR_DAYS days from today's midnight in `zone` (default: the active
    zone, the viewer's), coverage gaps in the next GAP_DAYS days, the latest hand-off notes.
    Seven queries however many rotas, layers, members and overrides."""
    zone = zone or timezone.get_current_timezone()
    rotas = list(Rota.objects.filter(is_active=True).order_by("name"))
    specs = rota_specs(rotas, since=now - OVERVIEW_HISTORY, until=now + OVERVIEW_AHEAD)
    people = _people(set().union(*(spec.user_ids for spec in specs.values())))
    on_call = {pk for pk, person in people.items() if person.can_be_on_call}
    notes = _latest_notes([r.pk for r in rotas])
    today = now.astimezone(zone).date()
    day_starts = _day_starts(today, zone, CALENDAR_DAYS)
    overviews = []
    for rota in rotas:
        spec = specs[rota.pk]
        layers = [spec.layers[position] for position in sorted(spec.layers)]
        overviews.append(
            RotaOverview(
                rota=rota,
                spec=spec,
                layers=layers,
                now=[LayerNow(layer, _view(shift_at(spec, layer.position, now), people)) for layer in layers],
                days=_calendar(spec, layers, people, day_starts, today),
                gaps=coverage_gaps(spec, now, now + dt.timedelta(days=GAP_DAYS), active_user_ids=on_call),
                notes=notes[rota.pk],
            )
        )
    return overviews


@dataclass(frozen=True)
class RotaGap:
    rota: Rota
    gap: Gap


def coverage_gaps_ahead(now: dt.datetime, *, days: int = GAP_DAYS) -> list[RotaGap]:
    """Every stretch of the next `days` days in which an active rota's primary layer has nobody
    who can be paged, soonest first: five queries however many rotas."""
    rotas = list(Rota.objects.filter(is_active=True).order_by("name"))
    specs = rota_specs(rotas, since=now, until=now + dt.timedelta(days=days))
    people = _people(set().union(*(spec.user_ids for spec in specs.values())))
    on_call = {pk for pk, person in people.items() if person.can_be_on_call}
    end = now + dt.timedelta(days=days)
    found = [
        RotaGap(rota, gap)
        for rota in rotas
        for gap in coverage_gaps(specs[rota.pk], now, end, active_user_ids=on_call)
    ]
    return sorted(found, key=lambda g: (g.gap.starts_at, g.rota.name))


def upcoming_overrides(rota: Rota, now: dt.datetime) -> list[RotaOverride]:
    """The rota's overrides that have not ended, by start, with their layer and people."""
    return list(
        RotaOverride.objects.filter(layer__rota=rota, ends_at__gt=now)
        .select_related("layer", "user", "created_by")
        .order_by("starts_at", "pk")
    )


def on_call_now_ids(at: dt.datetime) -> set[int]:
    """Everyone on call at `at` in any layer of any active rota, overrides included (four
    queries): routing counts them on shift (portal.availability)."""
    rotas = list(Rota.objects.filter(is_active=True))
    ids = set()
    for spec in rota_specs(rotas, since=at).values():
        for position in spec.layers:
            user_id = on_call_at(spec, position, at)
            if user_id is not None:
                ids.add(user_id)
    return ids
