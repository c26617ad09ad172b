"""Writes of business calendars: a calendar is saved whole (its windows and holidays with it)
or not at all, and deleted only when nothing uses it."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from portal.models import known_time_zones
from support.models import MINUTES_PER_DAY, BusinessCalendar, Holiday, OpeningWindow, minute_label
from support.sla.business_time import CalendarSpec
from support.sla.deleting import delete_unless_in_use

MAX_HOLIDAY_DAYS = 366


@dataclass(frozen=True)
class WindowInput:
    """Open on `weekday` (0 is Monday) from `start_minute` to `end_minute` (1440 is 24:00)."""

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class HolidayInput:
    """Closed all day from `first_day` to `last_day`, both included."""

    name: str
    first_day: dt.date
    last_day: dt.date


WEEKDAYS = dict(OpeningWindow.Weekday.choices)


def time_zone_problems(time_zone: str) -> list[str]:
    if time_zone not in known_time_zones():
        return [f"“{time_zone}” is not a known time zone: use an IANA name such as Europe/London."]
    return []


def windows_problems(windows: Sequence[WindowInput]) -> list[str]:
    """What is wrong with a week of windows: none at all, a bad weekday or minute, a window that
    ends before it starts, or two windows of one day that overlap (touching is fine)."""
    if not windows:
        return ["A calendar needs at least one opening window (24/7 is 00:00–24:00 every day)."]
    problems = []
    by_day: dict[int, list[WindowInput]] = {}
    for window in windows:
        if window.weekday not in WEEKDAYS:
            problems.append(f"{window.weekday} is not a weekday (0 is Monday, 6 is Sunday).")
            continue
        day = WEEKDAYS[window.weekday]
        if not (0 <= window.start_minute <= MINUTES_PER_DAY and 0 <= window.end_minute <= MINUTES_PER_DAY):
            problems.append(f"{day}: a window runs within the day, from 00:00 to 24:00 at the latest.")
        elif window.start_minute >= window.end_minute:
            problems.append(
                f"{day}: the window {minute_label(window.start_minute)}–{minute_label(window.end_minute)} "
                "ends before it starts (a night shift is two windows: until 24:00, and from 00:00 the next day)."
            )
        else:
            by_day.setdefault(window.weekday, []).append(window)
    for weekday, day_windows in sorted(by_day.items()):
        day_windows.sort(key=lambda w: w.start_minute)
        for before, after in pairwise(day_windows):
            if after.start_minute < before.end_minute:
                problems.append(
                    f"{WEEKDAYS[weekday]}: {minute_label(before.start_minute)}–{minute_label(before.end_minute)} "
                    f"overlaps {minute_label(after.start_minute)}–{minute_label(after.end_minute)}."
                )
    return problems


def holidays_problems(holidays: Sequence[HolidayInput]) -> list[str]:
    problems = []
    for holiday in holidays:
        label = holiday.name.strip() or "A holiday"
        if not holiday.name.strip():
            problems.append("Every holiday needs a name.")
        if holiday.first_day > holiday.last_day:
            problems.append(
                f"{label}: can’t end ({holiday.last_day}) before it starts ({holiday.first_day})."
            )
        elif (holiday.last_day - holiday.first_day).days >= MAX_HOLIDAY_DAYS:
            problems.append(f"{label}: a holiday lasts a year at most.")
    return problems


def calendar_problems(
    *,
    calendar: BusinessCalendar | None,
    name: str,
    time_zone: str,
    windows: Sequence[WindowInput],
    holidays: Sequence[HolidayInput],
) -> dict[str, list[str]]:
    """Every problem with a calendar as it would be saved, by field ("name", "time_zone",
    "windows", "holidays"); empty when it can be saved. Reads the database for the name."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the calendar a name."]
    elif (
        BusinessCalendar.objects.filter(name__iexact=name).exclude(pk=getattr(calendar, "pk", None)).exists()
    ):
        errors["name"] = [f"There is already a calendar named “{name}”."]
    for field, problems in (
        ("time_zone", time_zone_problems(time_zone)),
        ("windows", windows_problems(windows)),
        ("holidays", holidays_problems(holidays)),
    ):
        if problems:
            errors[field] = problems
    return errors


@transaction.atomic
def calendar_save(
    *,
    calendar: BusinessCalendar | None = None,
    name: str,
    time_zone: str,
    description: str = "",
    windows: Iterable[WindowInput],
    holidays: Iterable[HolidayInput] = (),
) -> BusinessCalendar:
    """Create a calendar (`calendar=None`) or replace an existing one's name, zone, windows and
    holidays with these. Raises ValidationError by field ("name", "time_zone", "windows",
    "holidays") and writes nothing when any is wrong. Safe to retry: the same input gives the
    same calendar."""
    windows, holidays = list(windows), list(holidays)
    errors = calendar_problems(
        calendar=calendar, name=name, time_zone=time_zone, windows=windows, holidays=holidays
    )
    if errors:
        raise ValidationError(errors)
    if calendar is None:
        calendar = BusinessCalendar()
    else:
        calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    calendar.name = name.strip()
    calendar.time_zone = time_zone
    calendar.description = (description or "").strip()
    calendar.save()
    calendar.windows.all().delete()
    calendar.holidays.all().delete()
    OpeningWindow.objects.bulk_create(
        OpeningWindow(
            calendar=calendar, weekday=w.weekday, start_minute=w.start_minute, end_minute=w.end_minute
        )
        for w in sorted(windows, key=lambda w: (w.weekday, w.start_minute))
    )
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, name=h.name.strip(), first_day=h.first_day, last_day=h.last_day)
        for h in sorted(holidays, key=lambda h: h.first_day)
    )
    return calendar


@transaction.atomic
def calendar_holidays_add(*, calendar: BusinessCalendar, holidays: Iterable[HolidayInput]) -> int:
    """Add holidays to a calendar (from a country's list or an iCalendar file), skipping any
    already there with the same name and days. Returns how many were added. Raises
    ValidationError on "holidays" and adds none when one is wrong. Safe to retry."""
    holidays = list(holidays)
    problems = holidays_problems(holidays)
    if problems:
        raise ValidationError({"holidays": problems})
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    known = set(calendar.holidays.values_list("name", "first_day", "last_day"))
    new = {(h.name.strip(), h.first_day, h.last_day) for h in holidays} - known
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, name=name, first_day=first, last_day=last)
        for name, first, last in sorted(new)
    )
    calendar.save(update_fields=["updated_at"])
    return len(new)


def calendar_delete(*, calendar: BusinessCalendar) -> None:
    """Delete a calendar with its windows and holidays. Raises ValidationError (and deletes
    nothing) while a policy uses it, naming the policies."""
    names = list(calendar.policies.values_list("name", flat=True)[:6])
    if names:
        shown = ", ".join(f"“{n}”" for n in names[:5]) + (" and more" if len(names) > 5 else "")
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"“{calendar.name}” is in use by {shown}: give them another calendar first."]}
        )
    delete_unless_in_use(calendar, what=f"The calendar “{calendar.name}”")


def calendar_specs(calendar_ids: Iterable[int]) -> dict[int, CalendarSpec]:
    """The arithmetic's view of these calendars, by id, in three queries whatever their number."""
    calendars = BusinessCalendar.objects.filter(pk__in=set(calendar_ids)).prefetch_related(
        "windows", "holidays"
    )
    return {calendar.pk: calendar.spec() for calendar in calendars}
