"""Who is working now, for routing: a person is on shift while the on-call rota has them (a
source the on-call app registers) or within their own weekly working hours, and available when
on shift and not marked away.

Working hours are typed as `09:00-17:00`, several windows separated by commas; a window whose end
is at or before its start runs past midnight (`22:00-06:00`)."""

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError

from portal.models import User

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 24 * 60
WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")

# Sources of people on shift besides their working hours: fn(at) -> set of user ids.
_on_shift_sources: list[Callable[[dt.datetime], set[int]]] = []


def register_on_shift_source(source: Callable[[dt.datetime], set[int]]) -> None:
    if source not in _on_shift_sources:
        _on_shift_sources.append(source)


def _minute(hours: str, minutes: str, *, end: bool) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise ValidationError(f"{hours}:{minutes} is not a time of day.")
    return value


def parse_day(text: str) -> list[tuple[int, int]]:
    """`09:00-12:30, 13:30-18:00` as (start, end) minute pairs; ValidationError with the window
    it cannot read. Empty text: not working that day."""
    windows = []
    for part in filter(None, (piece.strip() for piece in (text or "").split(","))):
        match = WINDOW.match(part)
        if not match:
            raise ValidationError(f"“{part}” is not a window: write it as 09:00-17:00.")
        start = _minute(match[1], match[2], end=False)
        end = _minute(match[3], match[4], end=True)
        if start == end:
            raise ValidationError(f"“{part}” starts and ends at the same time.")
        windows.append((start, end))
    return windows


def day_text(windows: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in windows)


def hours_by_day(user: User) -> list[list[tuple[int, int]]]:
    days: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for weekday, start, end in user.working_hours or []:
        days[int(weekday)].append((int(start), int(end)))
    return days


def is_working(user: User, at: dt.datetime) -> bool:
    """Within the person's own working hours at `at`, read in their time zone."""
    if not user.working_hours:
        return False
    try:
        local = at.astimezone(zoneinfo.ZoneInfo(user.time_zone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = at.astimezone(dt.UTC)
    minute = local.hour * 60 + local.minute
    today, yesterday = local.weekday(), (local.weekday() - 1) % 7
    for weekday, start, end in user.working_hours:
        if end > start and weekday == today and start <= minute < end:
            return True
        if end <= start and (
            (weekday == today and minute >= start) or (weekday == yesterday and minute < end)
        ):
            return True
    return False


def is_away(user: User, at: dt.datetime) -> bool:
    return bool(user.is_away) and (user.away_until is None or at < user.away_until)


def on_shift_ids(at: dt.datetime) -> set[int]:
    """People the registered sources (the on-call rota) put on shift at `at`."""
    ids: set[int] = set()
    for source in _on_shift_sources:
        ids |= set(source(at))
    return ids


def available(user: User, at: dt.datetime, *, on_shift: set[int] | None = None) -> bool:
    """On shift (on call, or in their working hours) and not away, and still active."""
    if not user.is_active or is_away(user, at):
        return False
    on_shift = on_shift_ids(at) if on_shift is None else on_shift
    return user.pk in on_shift or is_working(user, at)
