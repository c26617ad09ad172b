"""Working time in a business calendar (see the module's functions). Pure Python: no database."""

import datetime as dt
from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60


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


ALWAYS_OPEN = CalendarSpec("UTC", ((0, MINUTES_PER_DAY),) * 7)
