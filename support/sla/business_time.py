"""Working time in a business calendar: add working time to an instant, measure the working time
between two instants. Pure Python: no database.

The rules, shared by both directions so that `working_time_between(spec, s, add_working_time(spec,
s, d)) == d` exactly (to the microsecond):

- Windows and holidays are wall-clock times in `spec.time_zone`. Each window of each local date
  becomes a span of real time: its wall times are converted with zoneinfo (fold=0, so a repeated
  hour is read as its first occurrence and a wall time skipped by spring forward maps as zoneinfo
  maps it, with the offset in force before the change). A window of 01:00–03:00 on New York's
  spring-forward day is one hour long; 00:00–24:00 on a fall-back day is 25 hours.
- A holiday closes its whole local date.
- Spans are taken in time order and never counted twice; a window ending at 24:00 meets the next
  day's 00:00 window without a gap, so a 24/7 calendar in any time zone is plain UTC arithmetic.
- Adding starts counting at `start` if the calendar is open then, else at the next opening; adding
  nothing returns `start` itself.

The arithmetic walks day by day (never minute by minute) and raises ValueError for a calendar with
no open minute, or with more than three years of closed days in a row.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
MAX_CLOSED_DAYS = 3 * 366

ONE_DAY = dt.timedelta(days=1)
ZERO = dt.timedelta(0)


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar as the arithmetic needs it.

    - `time_zone`: an IANA name; windows and holidays are read in its wall-clock time.
    - `windows`: seven entries, Monday first; each a sorted tuple of non-overlapping
      `(start_minute, end_minute)` pairs with 0 <= start < end <= 1440 (1440 is 24:00).
    - `holidays`: local dates closed all day.
    """

    time_zone: str
    windows: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[dt.date] = frozenset()


ALWAYS_OPEN = CalendarSpec("UTC", (((0, MINUTES_PER_DAY),),) * 7)


def add_working_time(spec: CalendarSpec, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant (in UTC) at which `amount` of working time has passed since `start`.

    Raises ValueError for a naive `start`, a negative `amount`, a calendar with no open minute, or
    one that stays closed for more than three years in a row."""
    start_utc = _naive_utc(start)
    if amount < ZERO:
        raise ValueError(f"Cannot add a negative working time ({amount}).")
    if amount == ZERO:
        return start
    remaining = amount
    for opens, closes in _open_spans(_compiled(spec), start_utc):
        if closes <= start_utc:
            continue
        opens = max(opens, start_utc)
        available = closes - opens
        if remaining <= available:
            return (opens + remaining).replace(tzinfo=dt.UTC)
        remaining -= available
    raise AssertionError("unreachable: without last_day, _open_spans is endless or raises")


def working_time_between(spec: CalendarSpec, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """The working time from `start` to `end` (zero when `end` is not after `start`).

    Raises ValueError for naive datetimes or a calendar with no open minute."""
    start_utc, end_utc = _naive_utc(start), _naive_utc(end)
    if end_utc <= start_utc:
        return ZERO
    total = ZERO
    calendar = _compiled(spec)
    last_day = _local_date(calendar.zone, end_utc) + ONE_DAY
    for opens, closes in _open_spans(calendar, start_utc, last_day=last_day):
        if opens >= end_utc:
            break
        if closes > start_utc:
            total += min(closes, end_utc) - max(opens, start_utc)
    return total


def add_working_minutes(spec: CalendarSpec, start: dt.datetime, minutes: int) -> dt.datetime:
    """`add_working_time` with a number of minutes."""
    return add_working_time(spec, start, dt.timedelta(minutes=minutes))


def working_minutes_between(spec: CalendarSpec, start: dt.datetime, end: dt.datetime) -> float:
    """`working_time_between` in minutes (fractional: seconds count)."""
    return working_time_between(spec, start, end) / dt.timedelta(minutes=1)


@dataclass(frozen=True)
class _Compiled:
    zone: ZoneInfo
    # Per weekday (Monday first): (start, end) offsets from local midnight.
    windows: tuple[tuple[tuple[dt.timedelta, dt.timedelta], ...], ...]
    holidays: frozenset[dt.date]


@lru_cache(maxsize=256)
def _compiled(spec: CalendarSpec) -> _Compiled:
    if len(spec.windows) != 7:
        raise ValueError(f"A calendar has windows for seven weekdays, not {len(spec.windows)}.")
    windows = []
    for day in spec.windows:
        for window in day:
            if not (isinstance(window, tuple) and len(window) == 2):
                raise ValueError(f"A day's windows are (start_minute, end_minute) pairs, not {window!r}.")
            start_minute, end_minute = window
            if not 0 <= start_minute < end_minute <= MINUTES_PER_DAY:
                raise ValueError(
                    f"A window runs from one minute of the day to a later one, by 24:00 at the latest "
                    f"(got {start_minute}–{end_minute})."
                )
        windows.append(tuple((dt.timedelta(minutes=s), dt.timedelta(minutes=e)) for s, e in sorted(day)))
    if not any(windows):
        raise ValueError("This calendar has no open minute: give it at least one opening window.")
    try:
        zone = ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{spec.time_zone}” is not a known time zone.") from None
    return _Compiled(zone, tuple(windows), frozenset(spec.holidays))


def _open_spans(
    calendar: _Compiled, after: dt.datetime, *, last_day: dt.date | None = None
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The calendar's open spans in naive UTC, in time order and disjoint, from the local date
    before `after`'s on (a window's span can only reach back that far, even across a DST change).

    Spans that the conversion makes overlap (wall times in a spring-forward gap) are trimmed so
    that no instant counts twice; reversed or empty ones are skipped. Ends after the local date
    `last_day` when given; without it, raises ValueError after MAX_CLOSED_DAYS local dates in a
    row with no open span."""
    zone, windows, holidays = calendar.zone, calendar.windows, calendar.holidays
    day = _local_date(zone, after) - ONE_DAY
    last_close = dt.datetime.min
    closed_days = 0
    while last_day is None or day <= last_day:
        spans_today = 0
        if day not in holidays:
            midnight = dt.datetime(day.year, day.month, day.day)
            for start_offset, end_offset in windows[day.weekday()]:
                opens_local = midnight + start_offset
                closes_local = midnight + end_offset
                opens = max(opens_local - zone.utcoffset(opens_local), last_close)
                closes = closes_local - zone.utcoffset(closes_local)
                if closes > opens:
                    last_close = closes
                    spans_today += 1
                    yield opens, closes
        if spans_today:
            closed_days = 0
        else:
            closed_days += 1
            if last_day is None and closed_days > MAX_CLOSED_DAYS:
                raise ValueError(
                    f"This calendar is closed for more than {MAX_CLOSED_DAYS} days in a row "
                    f"from {day - dt.timedelta(days=closed_days - 1)}: check its holidays."
                )
        day += ONE_DAY


def _local_date(zone: ZoneInfo, naive_utc: dt.datetime) -> dt.date:
    return naive_utc.replace(tzinfo=dt.UTC).astimezone(zone).date()


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"Business time needs an aware datetime, got the naive {moment.isoformat()}.")
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
