"""Where a business calendar's holidays come from: a country's public holidays (the maintained
`holidays` package) or an iCalendar file (`icalendar`). Both return `(name, first_day, last_day)`
with both days included, sorted by first day; nothing here touches the database or the network."""

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import icalendar

HolidayRange = tuple[str, dt.date, dt.date]

ONE_DAY = dt.timedelta(days=1)


def public_holidays(country: str, years: Iterable[int], subdivision: str | None = None) -> list[HolidayRange]:
    """The public holidays of `country` (ISO 3166-1 code, such as "US" or "GB") and optionally one
    of its subdivisions (ISO 3166-2 code without the country, such as "CA" or "ENG") in `years`,
    observed days included ("Independence Day (observed)"). Consecutive days with the same name
    become one range. Raises ValueError for a country or subdivision the package does not know."""
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=sorted(set(years)))
    except NotImplementedError as error:
        raise ValueError(
            f"No public holidays are known for {country}{f' / {subdivision}' if subdivision else ''}: {error}"
        ) from None
    return _ranges(sorted(calendar.items()))


def holidays_from_ical(data: bytes, *, time_zone: str | None = None) -> list[HolidayRange]:
    """The events of an iCalendar file as holidays, named by their SUMMARY.

    An all-day event runs from DTSTART to the day before DTEND (which iCalendar makes exclusive),
    or for its DURATION, or one day. A timed event closes every date it touches, read in
    `time_zone` when given, else in the event's own wall-clock time; an event ending at midnight
    does not touch the next date. Cancelled events are left out. Raises ValueError with a message
    for the person who uploaded the file when it is not an iCalendar file, has no events, or has an
    event without a start or with a repeat rule (RRULE, which this import does not expand)."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"That file is not an iCalendar file (.ics): {error}") from None
    if calendar.name != "VCALENDAR":
        raise ValueError(f"That file is not an iCalendar file: it holds a {calendar.name}, not a VCALENDAR.")
    try:
        zone = ZoneInfo(time_zone) if time_zone else None
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{time_zone}” is not a known time zone.") from None
    found = []
    events = calendar.walk("VEVENT")
    if not events:
        raise ValueError("That file is not an iCalendar file of holidays: it has no events.")
    for event in events:
        name = str(event.get("SUMMARY", "")).strip() or "Holiday"
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if "RRULE" in event:
            raise ValueError(
                f"The event “{name}” repeats (RRULE), which this import does not expand: export the "
                f"calendar with each holiday listed, or add it by hand."
            )
        try:
            start, end = event.start, event.end
        except (ValueError, KeyError) as error:
            raise ValueError(f"The event “{name}” has no usable start or end: {error}") from None
        found.append((name, *_dates_covered(start, end, zone)))
    return sorted(found, key=lambda holiday: (holiday[1], holiday[2], holiday[0]))


def _dates_covered(
    start: dt.date | dt.datetime, end: dt.date | dt.datetime, zone: ZoneInfo | None
) -> tuple[dt.date, dt.date]:
    if not isinstance(start, dt.datetime):
        end_date = end.date() if isinstance(end, dt.datetime) else end
        return start, max(start, end_date - ONE_DAY)
    if not isinstance(end, dt.datetime):
        end = dt.datetime.combine(end, dt.time(), tzinfo=start.tzinfo)
    if zone is not None:
        start, end = _in_zone(start, zone), _in_zone(end, zone)
    if end <= start:
        return start.date(), start.date()
    return start.date(), (end - dt.timedelta(microseconds=1)).date()


def _in_zone(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    # A floating time (no TZID) is already the calendar's wall-clock time.
    return moment.astimezone(zone) if moment.tzinfo is not None else moment


def _ranges(days: list[tuple[dt.date, str]]) -> list[HolidayRange]:
    ranges: list[HolidayRange] = []
    for day, name in days:
        if ranges and ranges[-1][0] == name and ranges[-1][2] + ONE_DAY == day:
            ranges[-1] = (name, ranges[-1][1], day)
        else:
            ranges.append((name, day, day))
    return ranges
