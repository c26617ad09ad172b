"""SLA calendars and policies as rows: the calendar spec the arithmetic reads, the constraints
the database keeps, and the defaults the migration seeds."""

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps
from django.db import IntegrityError

from support.models import BusinessCalendar, Holiday, OpeningWindow, SlaPolicy, minute_label
from support.sla.business_time import CalendarSpec
from support.sla.calendars import HolidayInput, WindowInput, calendar_specs
from support.tests.factories import make_calendar, sla_defaults, week

pytestmark = pytest.mark.django_db


def test_spec_has_windows_by_weekday_sorted_and_holiday_ranges_as_days():
    calendar = make_calendar(
        windows=[WindowInput(0, 780, 1020), WindowInput(0, 540, 720), WindowInput(5, 600, 1440)],
        holidays=[
            HolidayInput("Christmas", dt.date(2026, 12, 25), dt.date(2026, 12, 26)),
            HolidayInput("New Year", dt.date(2027, 1, 1), dt.date(2027, 1, 1)),
        ],
    )
    assert calendar.spec() == CalendarSpec(
        time_zone="Europe/London",
        windows=(((540, 720), (780, 1020)), (), (), (), (), ((600, 1440),), ()),
        holidays=frozenset({dt.date(2026, 12, 25), dt.date(2026, 12, 26), dt.date(2027, 1, 1)}),
    )


def test_spec_reads_prefetched_windows_and_holidays_without_queries(django_assert_num_queries):
    make_calendar("A", holidays=[HolidayInput("Day off", dt.date(2026, 5, 1), dt.date(2026, 5, 1))])
    make_calendar("B", windows=week("08:00", "20:00", range(7)))
    calendars = list(
        BusinessCalendar.objects.filter(name__in=["A", "B"]).prefetch_related("windows", "holidays")
    )
    with django_assert_num_queries(0):
        specs = [calendar.spec() for calendar in calendars]
    assert specs[1].windows == (((480, 1200),),) * 7
    with django_assert_num_queries(3):
        assert calendar_specs([c.pk for c in calendars]) == {
            c.pk: s for c, s in zip(calendars, specs, strict=True)
        }


def test_window_that_ends_before_it_starts_is_refused_by_the_database():
    calendar = make_calendar()
    with pytest.raises(IntegrityError):
        OpeningWindow.objects.create(calendar=calendar, weekday=2, start_minute=600, end_minute=600)


def test_holiday_that_ends_before_it_starts_is_refused_by_the_database():
    calendar = make_calendar()
    with pytest.raises(IntegrityError):
        Holiday.objects.create(
            calendar=calendar, name="Backwards", first_day=dt.date(2026, 1, 2), last_day=dt.date(2026, 1, 1)
        )


@pytest.mark.parametrize(
    "targets",
    [
        {"first_response_minutes": 0},
        {"resolution_minutes": 525_601},
        {"first_response_minutes": None, "next_response_minutes": None, "resolution_minutes": None},
    ],
)
def test_policy_targets_out_of_bounds_or_missing_are_refused_by_the_database(targets):
    calendar = make_calendar()
    fields = {"first_response_minutes": 60, **targets}
    with pytest.raises(IntegrityError):
        SlaPolicy.objects.create(name="Bad", position=999, calendar=calendar, **fields)


def test_minute_labels_read_as_wall_clock_times():
    assert [minute_label(m) for m in (0, 540, 1005, 1440)] == ["00:00", "09:00", "16:45", "24:00"]


def test_migration_seeds_a_24_7_calendar_equal_to_plain_time_and_new_york_business_hours():
    sla_defaults()
    always = BusinessCalendar.objects.get(name="24/7").spec()
    assert always == CalendarSpec("UTC", (((0, 1440),),) * 7, frozenset())
    office = BusinessCalendar.objects.get(name="Business hours").spec()
    assert office.time_zone == "America/New_York"
    assert office.windows == (((540, 1020),),) * 5 + ((), ())


def test_seeding_again_changes_nothing():
    sla_defaults()
    before = list(SlaPolicy.objects.values_list("name", "position"))
    import_module("support.migrations.0003_default_sla_policies").seed_defaults(apps)
    assert list(SlaPolicy.objects.values_list("name", "position")) == before
    assert BusinessCalendar.objects.filter(name="24/7").count() == 1
    assert OpeningWindow.objects.filter(calendar__name="24/7").count() == 7
