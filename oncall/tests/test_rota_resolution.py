"""Who is on call at every minute (oncall.rota): nights, weekends, daylight-saving changes in New
York and London, overrides crossing hand-offs, overlapping overrides, short and long rotations;
shifts() agrees with on_call_at() minute by minute; property tests with Hypothesis."""

import datetime as dt
import statistics
import time
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall.rota import (
    Gap,
    LayerSpec,
    OverrideSpec,
    RotaSpec,
    Shift,
    coverage_gaps,
    handoff_at,
    handoffs,
    on_call_at,
    shift_at,
    shift_index,
    shifts,
)

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
ANA, BEN, CARL, DORA, EVE = 1, 2, 3, 4, 5


def spec(
    *,
    zone=UTC,
    starts_on=dt.date(2027, 3, 1),
    handoff=dt.time(9, 0),
    days=7,
    members=(ANA, BEN, CARL),
    overrides=(),
    secondary=None,
) -> RotaSpec:
    layers = {1: LayerSpec(1, "Primary", tuple(members), tuple(overrides))}
    if secondary is not None:
        layers[2] = LayerSpec(2, "Secondary", tuple(secondary))
    return RotaSpec(
        rota_id=1,
        zone=zone,
        anchor=dt.datetime.combine(starts_on, handoff),
        rotation=dt.timedelta(days=days),
        layers=layers,
    )


def cover(user_id, starts_at, ends_at, made) -> OverrideSpec:
    return OverrideSpec(starts_at, ends_at, user_id, (made,))


def local(zone, *args, fold=0) -> dt.datetime:
    """The instant a wall clock in `zone` reads this, in UTC (so that adding hours to it adds
    real hours: arithmetic on a ZoneInfo datetime is wall-clock arithmetic)."""
    return dt.datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


def expected_by_wall_clock(rota: RotaSpec, layer: int, start: dt.datetime, end: dt.datetime):
    """A second, independent reading of the rules, minute by minute: the rotation follows the
    highest wall-clock time shown so far (so a repeated hour does not step back), and the latest
    made override covering the minute wins."""
    layer_spec = rota.layers[layer]
    members = layer_spec.member_ids
    highest_wall = None
    at = start
    while at < end:
        wall = at.astimezone(rota.zone).replace(tzinfo=None)
        highest_wall = wall if highest_wall is None else max(highest_wall, wall)
        covering = [o for o in layer_spec.overrides if o.starts_at <= at < o.ends_at]
        if covering:
            yield at, max(covering, key=lambda o: o.made).user_id
        else:
            index = (highest_wall - rota.anchor) // rota.rotation
            yield at, None if index < 0 else members[index % len(members)]
        at += MINUTE


def assert_every_minute(rota, start, end, layer=1):
    wrong = [
        (at.astimezone(rota.zone).isoformat(), expected, on_call_at(rota, layer, at))
        for at, expected in expected_by_wall_clock(rota, layer, start, end)
        if on_call_at(rota, layer, at) != expected
    ]
    assert not wrong, wrong[:5]


def assert_shifts_agree_every_minute(rota, start, end, layer=1):
    found = shifts(rota, layer, start, end)
    assert found[0].starts_at == start and found[-1].ends_at == end
    for before, after in pairwise(found):
        assert before.ends_at == after.starts_at
    at, index = start, 0
    while at < end:
        while found[index].ends_at <= at:
            index += 1
        assert found[index].user_id == on_call_at(rota, layer, at), at
        at += MINUTE
    return found


# ---- the rotation ----------------------------------------------------------------------------


def test_every_minute_of_several_weeks_resolves_nights_and_weekends_included():
    rota = spec(zone=NEW_YORK, members=(ANA, BEN, CARL))
    start = local(NEW_YORK, 2027, 2, 26)
    assert_every_minute(rota, start.astimezone(UTC), (start + 5 * 7 * DAY).astimezone(UTC))


def test_a_week_rotation_hands_off_at_the_local_time_and_goes_round_the_list():
    rota = spec(zone=NEW_YORK)
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 1, 8, 59)) is None  # before the first hand-off
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 1, 9, 0)) == ANA
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 6, 3, 0)) == ANA  # Saturday night
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 8, 8, 59)) == ANA
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 8, 9, 0)) == BEN
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 15, 9, 0)) == CARL
    assert on_call_at(rota, 1, local(NEW_YORK, 2027, 3, 22, 9, 0)) == ANA


def test_one_day_and_fourteen_day_rotations():
    daily = spec(days=1, members=(ANA, BEN))
    assert [on_call_at(daily, 1, local(UTC, 2027, 3, day, 12)) for day in range(1, 6)] == [
        ANA,
        BEN,
        ANA,
        BEN,
        ANA,
    ]
    fortnight = spec(days=14, members=(ANA, BEN))
    assert on_call_at(fortnight, 1, local(UTC, 2027, 3, 15, 8, 59)) == ANA
    assert on_call_at(fortnight, 1, local(UTC, 2027, 3, 15, 9)) == BEN
    assert on_call_at(fortnight, 1, local(UTC, 2027, 3, 29, 9)) == ANA
    for rota in (daily, fortnight):
        assert_every_minute(rota, local(UTC, 2027, 2, 27), local(UTC, 2027, 4, 20))


def test_layers_rotate_their_own_members():
    rota = spec(members=(ANA, BEN), secondary=(CARL, DORA, EVE))
    at = local(UTC, 2027, 3, 15, 10)  # the third shift
    assert (on_call_at(rota, 1, at), on_call_at(rota, 2, at)) == (ANA, EVE)
    assert on_call_at(rota, 3, at) is None  # no such layer


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="naive"):
        on_call_at(spec(), 1, dt.datetime(2027, 3, 2, 12))


# ---- daylight saving -------------------------------------------------------------------------

# (zone, a day before the spring change, a day before the autumn change)
DST = {
    "America/New_York": (NEW_YORK, dt.date(2027, 3, 13), dt.date(2027, 11, 6)),
    "Europe/London": (LONDON, dt.date(2027, 3, 27), dt.date(2027, 10, 30)),
}


@pytest.mark.parametrize("zone_name", sorted(DST))
@pytest.mark.parametrize("handoff", [dt.time(9, 0), dt.time(2, 30), dt.time(1, 30)])
@pytest.mark.parametrize("days", [1, 7])
@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_every_minute_around_daylight_saving_changes(zone_name, handoff, days, season):
    zone, spring, autumn = DST[zone_name]
    change = spring if season == "spring" else autumn
    rota = spec(zone=zone, starts_on=change - dt.timedelta(days=8), handoff=handoff, days=days)
    start = dt.datetime.combine(change - dt.timedelta(days=3), dt.time(0), tzinfo=zone)
    end = start + 8 * DAY
    assert_every_minute(rota, start.astimezone(UTC), end.astimezone(UTC))
    assert_shifts_agree_every_minute(rota, start.astimezone(UTC), end.astimezone(UTC))


@pytest.mark.parametrize("zone_name", sorted(DST))
def test_the_nine_oclock_hand_off_stays_at_nine_across_both_changes(zone_name):
    zone, spring, autumn = DST[zone_name]
    rota = spec(zone=zone, starts_on=dt.date(2027, 1, 4), days=1)
    for day in (spring, autumn):
        for offset in range(3):
            at = handoff_at(rota, shift_index(rota, local(zone, day.year, day.month, day.day, 12)) + offset)
            assert at.astimezone(zone).time() == dt.time(9, 0)
    # The shift that spans the change is an hour shorter in spring and longer in autumn.
    spring_shift = shift_at(rota, 1, local(zone, spring.year, spring.month, spring.day + 1, 8))
    autumn_shift = shift_at(rota, 1, local(zone, autumn.year, autumn.month, autumn.day + 1, 8))
    assert spring_shift.ends_at - spring_shift.starts_at == 23 * HOUR
    assert autumn_shift.ends_at - autumn_shift.starts_at == 25 * HOUR


def test_a_hand_off_the_clocks_skip_happens_at_the_jump():
    # New York, 14 March 2027: 02:00 EST becomes 03:00 EDT, so 02:30 never shows.
    rota = spec(zone=NEW_YORK, starts_on=dt.date(2027, 3, 10), handoff=dt.time(2, 30), days=1)
    jump = local(NEW_YORK, 2027, 3, 14, 3, 0)
    assert handoff_at(rota, 4) == jump.astimezone(UTC)
    assert on_call_at(rota, 1, jump - dt.timedelta(microseconds=1)) == ANA  # shift 3
    assert on_call_at(rota, 1, jump) == BEN  # shift 4
    assert handoff_at(rota, 5).astimezone(NEW_YORK) == local(NEW_YORK, 2027, 3, 15, 2, 30)
    # London skips 01:00–02:00 instead: 02:30 is there, 01:30 is not.
    london = spec(zone=LONDON, starts_on=dt.date(2027, 3, 24), handoff=dt.time(1, 30), days=1)
    assert handoff_at(london, 4).astimezone(LONDON) == local(LONDON, 2027, 3, 28, 2, 0)


def test_a_hand_off_in_the_repeated_hour_happens_once_at_its_first_pass():
    # New York, 7 November 2027: 02:00 EDT becomes 01:00 EST, so 01:00–02:00 shows twice.
    rota = spec(zone=NEW_YORK, starts_on=dt.date(2027, 11, 3), handoff=dt.time(1, 30), days=1)
    first_pass = local(NEW_YORK, 2027, 11, 7, 1, 30)  # EDT
    assert handoff_at(rota, 4) == first_pass.astimezone(UTC)
    assert on_call_at(rota, 1, first_pass - MINUTE) == ANA  # shift 3
    for minutes in range(0, 120, 5):  # shift 4 through the repeat: no stepping back to Ana
        assert on_call_at(rota, 1, first_pass + dt.timedelta(minutes=minutes)) == BEN
    second_pass = local(NEW_YORK, 2027, 11, 7, 1, 30, fold=1)  # EST, an hour later
    assert second_pass - first_pass == HOUR
    assert shift_at(rota, 1, second_pass).starts_at == first_pass
    # A 02:30 hand-off that autumn day is at 02:30 EST, once.
    later = spec(zone=NEW_YORK, starts_on=dt.date(2027, 11, 3), handoff=dt.time(2, 30), days=1)
    assert handoff_at(later, 4).astimezone(NEW_YORK) == local(NEW_YORK, 2027, 11, 7, 2, 30)
    assert handoffs(later, local(NEW_YORK, 2027, 11, 7), local(NEW_YORK, 2027, 11, 8)) == [
        handoff_at(later, 4)
    ]


# ---- overrides -------------------------------------------------------------------------------


def test_an_override_crossing_a_hand_off_is_one_shift():
    handoff = local(UTC, 2027, 3, 8, 9)  # Ana hands off to Ben
    rota = spec(overrides=[cover(DORA, handoff - 2 * HOUR, handoff + 3 * HOUR, 1)])
    assert on_call_at(rota, 1, handoff - 2 * HOUR - MINUTE) == ANA
    assert on_call_at(rota, 1, handoff - 2 * HOUR) == DORA
    assert on_call_at(rota, 1, handoff + 2 * HOUR) == DORA
    assert on_call_at(rota, 1, handoff + 3 * HOUR) == BEN
    found = shifts(rota, 1, handoff - DAY, handoff + DAY)
    assert [(s.user_id, s.starts_at, s.ends_at, s.from_override) for s in found] == [
        (ANA, handoff - DAY, handoff - 2 * HOUR, False),
        (DORA, handoff - 2 * HOUR, handoff + 3 * HOUR, True),
        (BEN, handoff + 3 * HOUR, handoff + DAY, False),
    ]
    assert shift_at(rota, 1, handoff) == found[1]
    assert shift_at(rota, 1, handoff + 4 * HOUR) == Shift(BEN, handoff + 3 * HOUR, handoff + 7 * DAY)


def test_overlapping_overrides_the_latest_made_wins():
    noon = local(UTC, 2027, 3, 3, 12)
    first = cover(DORA, noon - 2 * HOUR, noon + 2 * HOUR, made=1)
    second = cover(EVE, noon, noon + 4 * HOUR, made=2)
    rota = spec(overrides=[second, first])
    assert [on_call_at(rota, 1, noon + h * HOUR) for h in (-3, -2, -1, 0, 1, 3, 4)] == [
        ANA,
        DORA,
        DORA,
        EVE,
        EVE,
        EVE,
        ANA,
    ]
    # Made the other way round, the earlier-starting one wins where they overlap.
    rota = spec(
        overrides=[cover(DORA, noon - 2 * HOUR, noon + 2 * HOUR, 2), cover(EVE, noon, noon + 4 * HOUR, 1)]
    )
    assert [on_call_at(rota, 1, noon + h * HOUR) for h in (0, 1, 2, 3)] == [DORA, DORA, EVE, EVE]
    # A long override made last hides a short one inside it.
    rota = spec(overrides=[cover(EVE, noon, noon + HOUR, 1), cover(DORA, noon - DAY, noon + DAY, 2)])
    assert on_call_at(rota, 1, noon + 30 * MINUTE) == DORA
    assert [s.user_id for s in shifts(rota, 1, noon - DAY, noon + DAY)] == [DORA]


def test_overrides_every_minute_against_the_second_reading():
    base = local(NEW_YORK, 2027, 3, 12, 18)
    rota = spec(
        zone=NEW_YORK,
        days=1,
        overrides=[
            cover(DORA, base, base + 20 * HOUR, 1),  # crosses the 09:00 hand-off and the DST change
            cover(EVE, base + 5 * HOUR, base + 7 * HOUR, 2),
            cover(ANA, base + 6 * HOUR, base + 30 * HOUR, 0),  # made first: loses where they overlap
            cover(BEN, base + 2 * DAY, base + 2 * DAY + 90 * MINUTE, 3),
        ],
    )
    start, end = (base - DAY).astimezone(UTC), (base + 4 * DAY).astimezone(UTC)
    assert_every_minute(rota, start, end)
    assert_shifts_agree_every_minute(rota, start, end)


def test_an_override_before_the_rota_starts_covers_that_time():
    start = local(UTC, 2027, 3, 1, 9)
    rota = spec(overrides=[cover(DORA, start - DAY, start - HOUR, 1)])
    assert on_call_at(rota, 1, start - 2 * HOUR) == DORA
    assert on_call_at(rota, 1, start - 30 * MINUTE) is None
    found = shifts(rota, 1, start - 2 * DAY, start + HOUR)
    assert [(s.user_id, s.from_override) for s in found] == [
        (None, False),
        (DORA, True),
        (None, False),
        (ANA, False),
    ]


# ---- shifts and gaps ---------------------------------------------------------------------------


def test_shifts_split_at_hand_offs_even_for_one_person():
    rota = spec(days=1, members=(ANA,))
    start = local(UTC, 2027, 3, 2)
    found = shifts(rota, 1, start, start + 3 * DAY)
    assert [s.starts_at.hour for s in found] == [0, 9, 9, 9]
    assert {s.user_id for s in found} == {ANA}
    assert shifts(rota, 1, start, start) == []


def test_shifts_agree_with_on_call_at_every_minute_of_a_fortnight():
    noon = local(LONDON, 2027, 3, 20, 12)
    rota = spec(
        zone=LONDON,
        days=3,
        handoff=dt.time(2, 30),
        overrides=[cover(DORA, noon, noon + 3 * DAY, 1), cover(EVE, noon + DAY, noon + DAY + HOUR, 2)],
    )
    start = local(LONDON, 2027, 3, 18, 7, 13).astimezone(UTC)
    assert_shifts_agree_every_minute(rota, start, start + 14 * DAY)


def test_coverage_gaps_are_minutes_with_nobody_or_nobody_active_on_the_primary():
    start = local(UTC, 2027, 3, 1, 9)
    rota = spec(members=(ANA, BEN), overrides=[cover(EVE, start + DAY, start + DAY + 2 * HOUR, 1)])
    window = (start - 3 * HOUR, start + 10 * DAY)
    assert coverage_gaps(rota, *window, active_user_ids={ANA, BEN, EVE}) == [Gap(start - 3 * HOUR, start)]
    # Eve left: her override is a gap; Ben left: his whole week is.
    assert coverage_gaps(rota, *window, active_user_ids={ANA, BEN}) == [
        Gap(start - 3 * HOUR, start),
        Gap(start + DAY, start + DAY + 2 * HOUR),
    ]
    assert coverage_gaps(rota, *window, active_user_ids={ANA}) == [
        Gap(start - 3 * HOUR, start),
        Gap(start + DAY, start + DAY + 2 * HOUR),
        Gap(start + 7 * DAY, start + 10 * DAY),
    ]
    # The secondary layer does not count.
    assert coverage_gaps(spec(members=(ANA,), secondary=()), start, start + DAY, active_user_ids={ANA}) == []


def test_on_call_at_costs_well_under_a_millisecond():
    start = local(NEW_YORK, 2027, 1, 1)
    overrides = [cover(EVE, start + n * 40 * HOUR, start + n * 40 * HOUR + 5 * HOUR, n) for n in range(200)]
    rota = spec(zone=NEW_YORK, starts_on=dt.date(2027, 1, 1), overrides=overrides)
    instants = [start + dt.timedelta(minutes=97 * n) for n in range(5000)]
    samples = []
    for at in instants:
        began = time.perf_counter()
        on_call_at(rota, 1, at)
        samples.append(time.perf_counter() - began)
    assert statistics.median(samples) < 0.001


# ---- properties --------------------------------------------------------------------------------

ZONES = [UTC, NEW_YORK, LONDON, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kolkata")]
WINDOW_START = dt.datetime(2027, 3, 1, tzinfo=UTC)


@st.composite
def rotas(draw):
    members = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4, unique=True)))
    overrides = [
        cover(
            draw(st.integers(1, 9)),
            WINDOW_START + dt.timedelta(minutes=start),
            WINDOW_START + dt.timedelta(minutes=start + length),
            made,
        )
        for made, (start, length) in enumerate(
            draw(
                st.lists(st.tuples(st.integers(-2 * 1440, 40 * 1440), st.integers(1, 10 * 1440)), max_size=8)
            )
        )
    ]
    return spec(
        zone=draw(st.sampled_from(ZONES)),
        starts_on=dt.date(2027, 3, 1) + dt.timedelta(days=draw(st.integers(-10, 10))),
        handoff=dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))),
        days=draw(st.integers(1, 14)),
        members=members,
        overrides=overrides,
    )


ranges = st.tuples(st.integers(-3 * 1440, 60 * 1440), st.integers(1, 30 * 1440)).map(
    lambda r: (WINDOW_START + dt.timedelta(minutes=r[0]), WINDOW_START + dt.timedelta(minutes=r[0] + r[1]))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rota=rotas(), window=ranges, probes=st.lists(st.floats(0, 1, exclude_max=True), max_size=30))
def test_shifts_are_contiguous_and_agree_with_on_call_at(rota, window, probes):
    start, end = window
    found = shifts(rota, 1, start, end)
    assert found[0].starts_at == start and found[-1].ends_at == end
    for shift in found:
        assert shift.starts_at < shift.ends_at
        assert on_call_at(rota, 1, shift.starts_at) == shift.user_id
        assert on_call_at(rota, 1, shift.ends_at - dt.timedelta(microseconds=1)) == shift.user_id
    for before, after in pairwise(found):
        assert before.ends_at == after.starts_at
        assert (before.user_id, before.from_override) != (after.user_id, after.from_override) or (
            not after.from_override and after.user_id is not None
        )
    for share in probes:
        at = min(start + (end - start) * share, end - dt.timedelta(microseconds=1))
        (shift,) = [s for s in found if s.starts_at <= at < s.ends_at]
        assert on_call_at(rota, 1, at) == shift.user_id
        whole = shift_at(rota, 1, at)
        assert whole.user_id == shift.user_id
        assert whole.starts_at is None or whole.starts_at <= shift.starts_at
        assert whole.ends_at >= shift.ends_at


@settings(max_examples=150, deadline=None)
@given(rota=rotas(), offsets=st.lists(st.integers(-5 * 1440 * 60, 90 * 1440 * 60), min_size=2, max_size=40))
def test_the_rotation_never_steps_back_and_hands_off_exactly_at_its_instants(rota, offsets):
    instants = sorted(WINDOW_START + dt.timedelta(seconds=s) for s in offsets)
    indices = [shift_index(rota, at) for at in instants]
    assert indices == sorted(indices)
    for index in {max(i, 0) for i in indices}:
        handoff = handoff_at(rota, index)
        assert shift_index(rota, handoff) == index
        assert shift_index(rota, handoff - dt.timedelta(microseconds=1)) == index - 1
