"""When things happen in the seeded history: a window of months ending now, and moments drawn in
it the way support work arrives (busier lately, on weekdays and in the afternoon UTC, when Europe
and the Americas overlap; quieter but never empty at night and on weekends)."""

import bisect
import contextlib
import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

# Relative weight of each UTC hour: quiet 02-07 (night in Europe and the Americas), busiest 13-20.
HOUR_WEIGHTS = [
    0.5, 0.45, 0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.7, 0.8, 0.85, 0.9,
    0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 0.8, 0.7, 0.6,
]  # fmt: skip
WEEKEND_WEIGHT = 0.45
GROWTH = 0.6  # the last hour of the window is this much busier than the first


@dataclass
class Window:
    start: dt.datetime
    now: dt.datetime
    _hours: list[dt.datetime] = field(default_factory=list, repr=False)
    _cumulative: list[float] = field(default_factory=list, repr=False)

    @classmethod
    def last_months(cls, months: int, now: dt.datetime | None = None) -> "Window":
        now = now or timezone.now()
        return cls(start=now - dt.timedelta(days=round(months * 30.44)), now=now)

    def _slots(self) -> None:
        hour = self.start.replace(minute=0, second=0, microsecond=0)
        span = (self.now - self.start).total_seconds()
        total = 0.0
        while hour < self.now:
            share = max(0.0, (hour - self.start).total_seconds()) / span
            weight = HOUR_WEIGHTS[hour.hour] * (WEEKEND_WEIGHT if hour.weekday() >= 5 else 1.0)
            total += weight * (1 + GROWTH * share)
            self._hours.append(hour)
            self._cumulative.append(total)
            hour += dt.timedelta(hours=1)

    def moments(
        self, rng: random.Random, count: int, *, until: dt.datetime | None = None
    ) -> list[dt.datetime]:
        """`count` moments in the window (before `until`, default now), in time order."""
        if not self._hours:
            self._slots()
        until = min(until or self.now, self.now)
        last = bisect.bisect_left(self._hours, until)
        if last == 0 or count <= 0:
            return []
        hours = rng.choices(self._hours[:last], cum_weights=self._cumulative[:last], k=count)
        found = []
        for hour in hours:
            moment = hour + dt.timedelta(seconds=rng.uniform(0, 3600))
            found.append(max(self.start, min(moment, until - dt.timedelta(seconds=rng.uniform(60, 3600)))))
        found.sort()
        return found

    def between(self, rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        return start + (end - start) * rng.random()


def after(moment: dt.datetime, minutes: float) -> dt.datetime:
    return moment + dt.timedelta(minutes=minutes)


def off_hours(moment: dt.datetime) -> bool:
    """Night (22:00-07:00 UTC) or the weekend."""
    return moment.weekday() >= 5 or moment.hour < 7 or moment.hour >= 22


@contextlib.contextmanager
def history_not_announced():
    """Inside a transaction: whatever the seeding asks to run after commit (the announcements of
    SLA warnings and breaches recorded while history is written: months-old breaches would raise
    escalations and send warning mails today) is dropped when the block ends."""
    pending = len(connection.run_on_commit)
    try:
        yield
    finally:
        del connection.run_on_commit[pending:]
