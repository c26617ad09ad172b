"""SLA business time (support/sla/business_time.py): add and measure working time in a calendar.

Target: adding 10,000 working minutes (about a month) in a business-hours calendar with a year of
holidays (Mon–Fri 09:00–17:00 America/New_York, US public holidays) ≤ 1 ms. Also timed: the same
in the 24/7 calendar, and measuring the working time between two instants a month apart. Starts
are spread over a year (DST changes and holidays included) so no run repeats another's work.
Figures are in microseconds: the runner's milliseconds are too coarse here."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

from bench.timing import measure_us, summary_us
from support.sla.business_time import (
    ALWAYS_OPEN,
    CalendarSpec,
    add_working_minutes,
    working_time_between,
)
from support.sla.holiday_sources import public_holidays

SEED = 20_260_301
REPEAT = 2_000
TARGET_US = 1_000
NEW_YORK = ZoneInfo("America/New_York")


def business_hours() -> CalendarSpec:
    holidays = frozenset(
        first + dt.timedelta(days=offset)
        for _, first, last in public_holidays("US", [2026, 2027])
        for offset in range((last - first).days + 1)
    )
    weekdays = (((9 * 60, 17 * 60),),) * 5
    return CalendarSpec("America/New_York", (*weekdays, (), ()), holidays)


def run(report):
    rng = random.Random(SEED)
    year_start = dt.datetime(2026, 1, 1, tzinfo=NEW_YORK)
    starts = [year_start + dt.timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(REPEAT)]
    spec = business_hours()
    report.figure("calendar", f"Mon–Fri 09:00–17:00 America/New_York, {len(spec.holidays)} holiday dates")

    stats = measure_us(lambda start: add_working_minutes(spec, start, 10_000), starts)
    verdict = "met" if stats["median"] <= TARGET_US and stats["p90"] <= TARGET_US else "MISSED"
    report.figure(
        "add 10,000 working minutes (business hours)", f"{summary_us(stats)} [target ≤ 1 ms: {verdict}]"
    )
    stats = measure_us(lambda start: add_working_minutes(ALWAYS_OPEN, start, 10_000), starts)
    report.figure("add 10,000 working minutes (24/7)", summary_us(stats))
    stats = measure_us(lambda start: working_time_between(spec, start, start + dt.timedelta(days=30)), starts)
    report.figure("between, 30 days apart (business hours)", summary_us(stats))
