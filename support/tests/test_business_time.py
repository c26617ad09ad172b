"""Business-time arithmetic (support/sla/business_time.py): properties that hold for every calendar,
and the cases people ask about: DST changes, midnight, 24:00, holidays over weekends and New Year."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.sla.business_time import (
    ALWAYS_OPEN,
    CalendarSpec,
    add_working_minutes,
    add_working_time,
    working_minutes_between,
    working_time_between,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
HOUR = dt.timedelta(hours=1)
ALL_DAY = ((0, 24 * 60),)
NINE_TO_FIVE = ((9 * 60, 17 * 60),)

# Deterministic for CI (same examples every run), no example database left in the work tree.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def week(*days, holidays=(), time_zone="America/New_York") -> CalendarSpec:
    """A calendar from up to seven days of windows, Monday first; missing days are closed."""
    days = tuple(days) + ((),) * (7 - len(days))
    return CalendarSpec(time_zone, days, frozenset(holidays))


def date_range(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def at(zone, *fields) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=zone)


US_2026 = [
    dt.date(2026, 1, 1),
    dt.date(2026, 1, 19),
    dt.date(2026, 2, 16),
    dt.date(2026, 5, 25),
    dt.date(2026, 6, 19),
    dt.date(2026, 7, 3),
    dt.date(2026, 9, 7),
    dt.date(2026, 10, 12),
    dt.date(2026, 11, 11),
    dt.date(2026, 11, 26),
    dt.date(2026, 12, 25),
]
BUSINESS_HOURS_NY = week(*[NINE_TO_FIVE] * 5, holidays=US_2026)
CALENDARS = [
    BUSINESS_HOURS_NY,
    # Split days, a window over London's change hour (01:00) and one ending at 24:00.
    week(
        ((0, 90), (8 * 60, 12 * 60), (13 * 60, 17 * 60)),
        ((8 * 60, 12 * 60), (12 * 60, 18 * 60)),
        ((22 * 60, 24 * 60),),
        ALL_DAY,
        (),
        (),
        ((30, 150), (20 * 60, 24 * 60)),
        holidays=date_range(dt.date(2026, 12, 24), dt.date(2027, 1, 3)),
        time_zone="Europe/London",
    ),
    # Windows around New York's change hour (02:00) on Sundays, when the clocks change: on
    # spring-forward day 01:00–02:30 ends at 07:30 UTC and 03:00–04:00 starts at 07:00 UTC.
    week(ALL_DAY, (), (), (), (), (), ((60, 150), (180, 240), (23 * 60, 24 * 60))),
    ALWAYS_OPEN,
]
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia"]

instants = st.datetimes(
    min_value=dt.datetime(2025, 6, 1), max_value=dt.datetime(2027, 6, 1), timezones=st.just(dt.UTC)
)
amounts = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=45))
calendars = st.sampled_from(CALENDARS)


@PROPERTY
@given(calendars, instants, amounts)
def test_measuring_what_was_added_gives_it_back_exactly(spec, start, amount):
    assert working_time_between(spec, start, add_working_time(spec, start, amount)) == amount


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_adding_more_never_ends_earlier(spec, start, amount, more):
    assert add_working_time(spec, start, amount) <= add_working_time(spec, start, amount + more)


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_starting_later_never_ends_earlier(spec, start, later_by, amount):
    assert add_working_time(spec, start, amount) <= add_working_time(spec, start + later_by, amount)


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_measuring_to_a_later_end_never_gives_less(spec, start, first, more):
    end = start + first
    assert working_time_between(spec, start, end) <= working_time_between(spec, start, end + more)


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_working_time_over_two_stretches_adds_up(spec, start, first, second):
    middle, end = start + first, start + first + second
    assert working_time_between(spec, start, middle) + working_time_between(
        spec, middle, end
    ) == working_time_between(spec, start, end)


@PROPERTY
@given(calendars, instants, amounts)
def test_a_result_lies_in_open_time(spec, start, amount):
    """Just before the result there is working time: the clock ran up to it, never past it."""
    result = add_working_time(spec, start, amount)
    if amount:
        tick = dt.timedelta(microseconds=1)
        assert working_time_between(spec, result - tick, result) == tick


@PROPERTY
@given(st.sampled_from(ZONES), instants, amounts, amounts)
def test_24_7_in_any_time_zone_is_plain_arithmetic(zone, start, amount, span):
    spec = CalendarSpec(zone, (ALL_DAY,) * 7)
    assert add_working_time(spec, start, amount) == start + amount
    assert working_time_between(spec, start, start + span) == span


def test_fall_back_day_is_25_hours_in_new_york_and_london():
    for zone, day in ((NEW_YORK, (2026, 11, 1)), (LONDON, (2026, 10, 25))):
        sundays = week((), (), (), (), (), (), ALL_DAY, time_zone=str(zone))
        start = at(zone, *day)
        assert working_time_between(sundays, start - 2 * HOUR, start + 48 * HOUR) == 25 * HOUR
        assert add_working_time(sundays, start, 25 * HOUR) == at(zone, 2026, day[1], day[2] + 1)


def test_spring_forward_day_is_23_hours_in_new_york_and_london():
    for zone, day in ((NEW_YORK, (2026, 3, 8)), (LONDON, (2026, 3, 29))):
        sundays = week((), (), (), (), (), (), ALL_DAY, time_zone=str(zone))
        assert working_time_between(sundays, at(zone, *day), at(zone, *day, 23, 59)) == 22 * HOUR + (
            59 * dt.timedelta(minutes=1)
        )
        assert add_working_time(sundays, at(zone, *day), 23 * HOUR) == at(zone, 2026, day[1], day[2] + 1)


def test_a_one_to_three_window_on_spring_forward_day_is_one_hour_in_new_york():
    spec = week((), (), (), (), (), (), ((60, 180),))
    day = at(NEW_YORK, 2026, 3, 8)
    assert working_time_between(spec, day, day + dt.timedelta(hours=12)) == HOUR
    assert working_time_between(spec, day + dt.timedelta(days=7), day + dt.timedelta(days=8)) == 2 * HOUR
    assert add_working_time(spec, day, HOUR).astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 8, 3)


def test_windows_that_the_missing_hour_makes_overlap_count_once():
    """01:00–02:30 and 03:00–04:00 on New York's spring-forward day: 02:30 does not exist and maps
    to 03:30 EDT (07:30 UTC), past the second window's start (07:00 UTC). Open 06:00–08:00 UTC."""
    spec = week((), (), (), (), (), (), ((60, 150), (180, 240)))
    day = at(NEW_YORK, 2026, 3, 8)
    assert working_time_between(spec, day, day + dt.timedelta(hours=12)) == 2 * HOUR
    assert add_working_time(spec, day, 1.5 * HOUR) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)
    assert add_working_time(spec, day, 2 * HOUR) == dt.datetime(2026, 3, 8, 8, tzinfo=dt.UTC)


def test_a_window_over_the_repeated_hour_on_fall_back_day_counts_it_twice():
    """01:00–02:00 on New York's fall-back day: 01:00 is read as its first occurrence (EDT), so
    the window lasts two real hours, through 01:00–02:00 EST."""
    spec = week((), (), (), (), (), (), ((60, 120),))
    start = at(NEW_YORK, 2026, 11, 1)
    assert working_time_between(spec, start, start + dt.timedelta(days=1)) == 2 * HOUR
    assert add_working_time(spec, start, 2 * HOUR) == dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)


def test_a_window_over_londons_missing_hour_ends_at_its_real_time():
    """00:00–03:00 on London's spring-forward day: 01:00–02:00 does not exist, two hours open."""
    spec = week((), (), (), (), (), (), ((0, 180),), time_zone="Europe/London")
    start = at(LONDON, 2026, 3, 29)
    assert working_time_between(spec, start, start + dt.timedelta(days=1)) == 2 * HOUR
    assert add_working_time(spec, start, 2 * HOUR).astimezone(LONDON) == at(LONDON, 2026, 3, 29, 3)


def test_business_hours_keep_their_wall_clock_across_dst():
    friday_before = at(NEW_YORK, 2026, 3, 6, 16)
    end = add_working_time(BUSINESS_HOURS_NY, friday_before, 2 * HOUR)
    assert end.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 3, 9, 10)
    assert end - friday_before == dt.timedelta(days=2, hours=17)  # a 23-hour Sunday in between


def test_counting_runs_through_midnight_into_the_next_days_window():
    spec = week(((22 * 60, 24 * 60),), ((0, 2 * 60),))
    monday_late = at(NEW_YORK, 2026, 6, 1, 22)
    assert add_working_time(spec, monday_late, 3 * HOUR).astimezone(NEW_YORK) == at(NEW_YORK, 2026, 6, 2, 1)
    assert working_time_between(spec, monday_late + HOUR, at(NEW_YORK, 2026, 6, 2, 1)) == 2 * HOUR


def test_a_window_ending_at_24_00_ends_at_the_next_midnight():
    fridays = week((), (), (), (), ((20 * 60, 24 * 60),))
    friday = at(NEW_YORK, 2026, 6, 5, 20)
    assert add_working_time(fridays, friday, 4 * HOUR).astimezone(NEW_YORK) == at(NEW_YORK, 2026, 6, 6)
    later = add_working_minutes(fridays, friday, 4 * 60 + 1)
    assert later.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 6, 12, 20, 1)


def test_touching_windows_count_as_one():
    split = week(((9 * 60, 12 * 60), (12 * 60, 17 * 60)))
    whole = week(NINE_TO_FIVE)
    monday = at(NEW_YORK, 2026, 6, 1, 11)
    assert add_working_time(split, monday, 3 * HOUR) == add_working_time(whole, monday, 3 * HOUR)
    assert working_time_between(split, monday, monday + 5 * HOUR) == 5 * HOUR


def test_a_holiday_range_over_a_weekend_stays_closed_until_it_ends():
    spec = week(*[NINE_TO_FIVE] * 5, holidays=date_range(dt.date(2026, 12, 24), dt.date(2026, 12, 28)))
    wednesday = at(NEW_YORK, 2026, 12, 23, 16, 30)
    end = add_working_time(spec, wednesday, HOUR)
    assert end.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 12, 29, 9, 30)
    assert working_time_between(
        spec, at(NEW_YORK, 2026, 12, 23, 17), at(NEW_YORK, 2026, 12, 29, 9)
    ) == dt.timedelta(0)


def test_a_holiday_range_over_new_year_carries_into_the_next_year():
    spec = week(
        *[NINE_TO_FIVE] * 5,
        holidays=date_range(dt.date(2026, 12, 31), dt.date(2027, 1, 1)),
        time_zone="Europe/London",
    )
    end = add_working_minutes(spec, at(LONDON, 2026, 12, 30, 16, 30), 60)
    assert end == dt.datetime(2027, 1, 4, 9, 30, tzinfo=dt.UTC)
    assert working_minutes_between(spec, at(LONDON, 2026, 12, 30, 9), end) == 8 * 60 + 30


def test_adding_from_a_closed_moment_starts_at_the_next_opening():
    saturday = at(NEW_YORK, 2026, 6, 6, 12)
    assert add_working_time(BUSINESS_HOURS_NY, saturday, HOUR).astimezone(NEW_YORK) == at(
        NEW_YORK, 2026, 6, 8, 10
    )
    early = at(NEW_YORK, 2026, 6, 9, 7)
    assert add_working_time(BUSINESS_HOURS_NY, early, HOUR).astimezone(NEW_YORK) == at(
        NEW_YORK, 2026, 6, 9, 10
    )
    independence_observed = at(NEW_YORK, 2026, 7, 3, 10)
    assert add_working_time(BUSINESS_HOURS_NY, independence_observed, HOUR).astimezone(NEW_YORK) == at(
        NEW_YORK, 2026, 7, 6, 10
    )


def test_adding_nothing_returns_the_start_itself():
    saturday = at(NEW_YORK, 2026, 6, 6, 12)
    assert add_working_time(BUSINESS_HOURS_NY, saturday, dt.timedelta(0)) is saturday


def test_results_are_in_utc_and_minutes_are_fractional():
    start = at(NEW_YORK, 2026, 6, 8, 9)
    end = add_working_minutes(BUSINESS_HOURS_NY, start, 90)
    assert end.tzinfo is dt.UTC
    assert end == dt.datetime(2026, 6, 8, 14, 30, tzinfo=dt.UTC)
    assert working_minutes_between(BUSINESS_HOURS_NY, start, start + dt.timedelta(seconds=90)) == 1.5
    assert working_minutes_between(BUSINESS_HOURS_NY, end, start) == 0


def test_a_calendar_with_no_open_minute_is_refused_not_looped_on():
    never = week()
    start = at(NEW_YORK, 2026, 6, 1)
    with pytest.raises(ValueError, match="no open minute"):
        add_working_minutes(never, start, 1)
    with pytest.raises(ValueError, match="no open minute"):
        working_time_between(never, start, start + HOUR)


def test_more_than_three_years_closed_is_refused():
    four_years = week(ALL_DAY, holidays=date_range(dt.date(2026, 1, 1), dt.date(2029, 12, 31)))
    with pytest.raises(ValueError, match="closed for more than"):
        add_working_minutes(four_years, at(NEW_YORK, 2026, 6, 1), 1)
    start, end = at(NEW_YORK, 2026, 6, 1), at(NEW_YORK, 2030, 1, 8)
    assert working_time_between(four_years, start, end) == dt.timedelta(days=1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="naive"):
        add_working_minutes(ALWAYS_OPEN, dt.datetime(2026, 6, 1), 1)
    with pytest.raises(ValueError, match="negative"):
        add_working_minutes(ALWAYS_OPEN, at(dt.UTC, 2026, 6, 1), -1)
    with pytest.raises(ValueError, match="seven weekdays"):
        add_working_minutes(CalendarSpec("UTC", (ALL_DAY,)), at(dt.UTC, 2026, 6, 1), 1)
    with pytest.raises(ValueError, match="not a known time zone"):
        add_working_minutes(CalendarSpec("Mars/Olympus", (ALL_DAY,) * 7), at(dt.UTC, 2026, 6, 1), 1)
    with pytest.raises(ValueError, match="24:00"):
        add_working_minutes(week(((600, 500),)), at(dt.UTC, 2026, 6, 1), 1)


def test_ten_thousand_minutes_land_on_the_right_afternoon():
    """20 days and 6h40 of 8-hour days, over Memorial Day."""
    start = at(NEW_YORK, 2026, 5, 18, 10)
    end = add_working_minutes(BUSINESS_HOURS_NY, start, 10_000)
    assert end.astimezone(NEW_YORK) == at(NEW_YORK, 2026, 6, 16, 16, 40)
    assert working_minutes_between(BUSINESS_HOURS_NY, start, end) == 10_000
