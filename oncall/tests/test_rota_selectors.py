"""The rota's reads (oncall.selectors.rota and oncall.rota.rota_specs): who is on call from the
database, the permission-checked getter, and the /oncall/ overview and coverage gaps at a fixed
number of queries however many rotas, members and overrides."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from oncall.models import Rota
from oncall.rota import Gap, on_call_at, rota_spec, rota_specs
from oncall.selectors.rota import coverage_gaps_ahead, oncall_overview, rota_get_for_user, who_is_on_call
from oncall.services.rota import handoff_note_create, override_create
from oncall.tests.test_rota_services import person, save_rota
from portal.roles import Role
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
NOW = dt.datetime(2027, 3, 3, 12, tzinfo=UTC)  # a Wednesday: Ana's first week (from Mon 1 March)


def cover(rota, user, starts_at, ends_at, *, position=1):
    return override_create(
        rota=rota,
        layer=rota.layers.get(position=position),
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason="swap",
        by=person("admin", Role.ADMIN),
    )


def many_rotas(prefix: str, count: int, members: int, *, overrides: int = 0, notes: int = 0) -> list[Rota]:
    rotas = []
    for n in range(count):
        people = [person(f"{prefix}{n}m{m}") for m in range(members)]
        rota = save_rota(f"{prefix} {n}", layers={"Primary": people, "Secondary": people[::-1]})
        for k in range(overrides):
            cover(rota, people[-1], NOW + k * DAY, NOW + k * DAY + 3 * HOUR, position=1 + k % 2)
        for k in range(notes):
            handoff_note_create(rota=rota, author=people[0], body=f"Note {k}")
        rotas.append(rota)
    return rotas


# ---- who is on call ------------------------------------------------------------------------------


def test_who_is_on_call_reads_the_rotation_and_the_overrides(django_assert_max_num_queries):
    rota = save_rota()
    dora = person("dora")
    cover(rota, dora, NOW + HOUR, NOW + 3 * HOUR)
    with django_assert_max_num_queries(4):
        assert who_is_on_call(rota, 1, NOW).username == "ana"
    assert who_is_on_call(rota, 1, NOW + 2 * HOUR) == dora
    assert who_is_on_call(rota, 1, NOW + 7 * DAY).username == "ben"
    assert who_is_on_call(rota, 2, NOW).username == "carl"
    assert who_is_on_call(rota, 1, dt.datetime(2027, 2, 1, tzinfo=UTC)) is None  # before the rota starts
    assert who_is_on_call(rota, 3, NOW) is None  # no third layer


def test_rota_specs_cost_three_queries_however_many_rotas(django_assert_num_queries):
    one = many_rotas("a", 1, 2, overrides=2)
    with django_assert_num_queries(3):
        rota_specs(one, since=NOW)
    more = [*one, *many_rotas("b", 5, 8, overrides=6)]
    with django_assert_num_queries(3):
        specs = rota_specs(more, since=NOW)
    assert len(specs) == 6
    assert rota_specs([]) == {}


def test_a_spec_knows_only_the_overrides_that_end_after_since():
    rota = save_rota()
    dora = person("dora")
    cover(rota, dora, NOW - 3 * DAY, NOW - 2 * DAY)
    cover(rota, dora, NOW - HOUR, NOW + HOUR)
    spec = rota_specs([rota], since=NOW - DAY)[rota.pk]
    assert len(spec.layers[1].overrides) == 1
    assert on_call_at(spec, 1, NOW) == dora.pk
    # From a rota whose layers, members and overrides were prefetched by hand: all of them.
    prefetched = Rota.objects.prefetch_related("layers__members", "layers__overrides").get(pk=rota.pk)
    assert len(rota_spec(prefetched).layers[1].overrides) == 2


def test_overlapping_overrides_from_the_database_the_latest_made_wins(monkeypatch):
    clock = pinned_time(monkeypatch, NOW - DAY)
    rota = save_rota()
    dora, eve = person("dora"), person("eve")
    cover(rota, dora, NOW, NOW + 4 * HOUR)
    clock.advance(minutes=1)
    cover(rota, eve, NOW + HOUR, NOW + 2 * HOUR)
    clock.advance(minutes=1)
    cover(rota, dora, NOW + 90 * dt.timedelta(minutes=1), NOW + 3 * HOUR)
    assert [
        who_is_on_call(rota, 1, NOW + m * dt.timedelta(minutes=1)).username for m in (0, 60, 89, 90, 179, 240)
    ] == [
        "dora",
        "eve",
        "eve",
        "dora",
        "dora",
        "ana",
    ]


# ---- the getter ------------------------------------------------------------------------------


def test_readers_get_a_rota_and_only_admins_change_it():
    rota = save_rota()
    for role in (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN):
        assert rota_get_for_user(user=person(f"as-{role}", role), pk=rota.pk) == rota
    assert rota_get_for_user(user=person("boss", Role.ADMIN), pk=rota.pk, to_change=True) == rota
    for role in (Role.SPECIALIST, Role.LEADERSHIP):
        with pytest.raises(PermissionDenied, match="Only Admins change the on-call rota"):
            rota_get_for_user(user=person(f"writer-{role}", role), pk=rota.pk, to_change=True)
    with pytest.raises(PermissionDenied):
        rota_get_for_user(user=person("paula", Role.PRODUCT), pk=rota.pk)
    with pytest.raises(Http404):
        rota_get_for_user(user=person("boss", Role.ADMIN), pk=rota.pk + 1000)
    with pytest.raises(Http404):
        rota_get_for_user(user=person("boss", Role.ADMIN), pk="99999999999999999999999")


# ---- the overview ----------------------------------------------------------------------------


def test_the_overview_shows_now_the_next_fortnight_gaps_and_notes():
    rota = save_rota(starts_on=dt.date(2027, 3, 1))
    dora = person("dora")
    cover(rota, dora, NOW + DAY, NOW + DAY + 2 * HOUR, position=2)
    for n in range(7):
        handoff_note_create(
            rota=rota, author=rota.layers.get(position=1).members.first().user, body=f"Note {n}"
        )
    save_rota("Dormant", layers={"Primary": [person("eve")]}, is_active=False)
    save_rota("Later", layers={"Primary": [person("fay")]}, starts_on=dt.date(2027, 3, 5))

    later, support = oncall_overview(NOW, zone=UTC)
    assert support.rota == rota
    primary, secondary = support.now
    assert (primary.layer.name, primary.current.person.username) == ("Primary", "ana")
    assert (primary.current.starts_at, primary.current.ends_at) == (
        dt.datetime(2027, 3, 1, 9, tzinfo=UTC),
        dt.datetime(2027, 3, 8, 9, tzinfo=UTC),
    )
    assert secondary.current.person.username == "carl"
    assert len(support.days) == 14 and support.days[0].day == dt.date(2027, 3, 3)
    monday = support.days[5]
    assert monday.day == dt.date(2027, 3, 8) and monday.handoffs == [dt.datetime(2027, 3, 8, 9, tzinfo=UTC)]
    assert [(s.person.username, s.is_handoff, s.starts_within) for s in monday.cells[0]] == [
        ("ana", False, False),
        ("ben", True, True),
    ]
    thursday_secondary = support.days[1].cells[1]
    assert [(s.person.username, s.from_override) for s in thursday_secondary] == [
        ("carl", False),
        ("dora", True),
        ("carl", False),
    ]
    assert support.gaps == []
    assert [n.body for n in support.notes] == ["Note 6", "Note 5", "Note 4", "Note 3", "Note 2"]
    # A rota that starts in two days has nobody until then: a gap, and nobody now.
    assert later.gaps == [Gap(NOW, dt.datetime(2027, 3, 5, 9, tzinfo=UTC))]
    assert later.now[0].current.person is None and later.now[0].current.uncovered


def test_the_calendar_days_are_the_viewers_local_days():
    save_rota()
    (support,) = oncall_overview(NOW, zone=dt.timezone(dt.timedelta(hours=-5)))
    assert support.days[0].day == dt.date(2027, 3, 3)
    assert support.days[0].starts_at == dt.datetime(2027, 3, 3, 5, tzinfo=UTC)


def test_someone_who_cannot_be_paged_is_a_gap():
    rota = save_rota()
    ana = rota.layers.get(position=1).members.get(position=1).user
    ana.is_active = False
    ana.save()
    (support,) = oncall_overview(NOW, zone=UTC)
    assert support.gaps == [Gap(NOW, dt.datetime(2027, 3, 8, 9, tzinfo=UTC))]
    assert support.now[0].current.uncovered
    assert [(g.rota.name, g.gap) for g in coverage_gaps_ahead(NOW)] == [
        ("Support", Gap(NOW, dt.datetime(2027, 3, 8, 9, tzinfo=UTC)))
    ]
    assert coverage_gaps_ahead(dt.datetime(2027, 3, 8, 9, tzinfo=UTC)) == []


def test_the_overview_costs_the_same_queries_however_many_rotas(django_assert_max_num_queries):
    many_rotas("a", 1, 2, overrides=1, notes=1)
    with django_assert_max_num_queries(7) as few:
        oncall_overview(NOW)
    many_rotas("b", 6, 8, overrides=8, notes=8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        overviews = oncall_overview(NOW)
    assert len(overviews) == 7
    with django_assert_max_num_queries(5):
        coverage_gaps_ahead(NOW)
