"""The local clock in SQL, exactly, on both databases: the week of a period and the hour of the
local week an instant falls in (reports' trends and the escalations' night share), without a
Python function per row on SQLite."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import NotSupportedError
from django.db.models import FloatField, Func, IntegerField, Value, When

from reports.aggregates import ObjectCase, seconds_between
from reports.metrics.base import weeks_of

WEEK = 7 * 86400

# The local clock, exactly, on both databases: the seconds of wall-clock time since a local
# midnight, as the seconds since that midnight read as UTC plus the zone's offset at the instant
# (a CASE over the few offset changes in the interval, found here in Python).


def _offsets(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime | None, int]]:
    """The zone's UTC offsets over [start, end) as [(until, seconds)], the last until None.
    Offsets are sampled daily and each change found to the second."""
    offset = lambda at: int(at.astimezone(zone).utcoffset().total_seconds())  # noqa: E731
    found, at, current = [], start, offset(start)
    while at < end:
        step = min(at + dt.timedelta(days=1), end)
        if offset(step) != current:
            low, high = 0, int((step - at).total_seconds())
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (
                    (low, middle) if offset(at + dt.timedelta(seconds=middle)) != current else (middle, high)
                )
            change = at + dt.timedelta(seconds=high)
            found.append((change, current))
            current = offset(change)
        at = step
    return [*found, (None, current)]


def local_seconds(field: str, zone, origin: dt.date, start: dt.datetime, end: dt.datetime):
    """Seconds of `zone`'s wall-clock time from local midnight of `origin` to the instant in
    `field`, for instants in [start, end) (outside it the offset at the nearest end is used)."""
    since = seconds_between(Value(dt.datetime.combine(origin, dt.time(0), tzinfo=dt.UTC)), field)
    pieces = _offsets(zone, start, end)
    if len(pieces) == 1:
        return since + Value(float(pieces[0][1]))
    offset = ObjectCase(
        *(When(**{f"{field}__lt": until}, then=Value(float(seconds))) for until, seconds in pieces[:-1]),
        default=Value(float(pieces[-1][1])),
        output_field=FloatField(),
    )
    return since + offset


class _Whole(Func):
    """⌊seconds ÷ unit⌋ (with `modulo`: ⌊(seconds mod modulo) ÷ unit⌋) of a non-negative number of
    seconds, as an integer: one expression, no Python function per row on SQLite."""

    arity = 1
    output_field = IntegerField()

    def __init__(self, seconds, unit: int, modulo: int | None = None):
        super().__init__(seconds)
        self.unit, self.modulo = unit, modulo

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        whole = f"CAST({sql} AS INTEGER)"  # truncation is the floor of a number ≥ 0
        if self.modulo:
            whole = f"({whole} %% {self.modulo})"  # the backend turns %% into %
        return f"({whole} / {self.unit})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        whole = f"CAST(FLOOR({sql}) AS bigint)"
        if self.modulo:
            whole = f"MOD({whole}, {self.modulo})"
        return f"({whole} / {self.unit})", params

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"Written for PostgreSQL and SQLite, not {connection.vendor}.")


def week_number(field: str, period, tz):
    """The week of the period (0 for weeks_of(period)[0], local Mondays in `tz`) an instant of it
    falls in: a balanced CASE over the weeks' first instants, found in Python, so a row costs
    about log2(weeks) comparisons and no date arithmetic."""
    weeks = weeks_of(period)
    starts = [dt.datetime.combine(monday, dt.time(0), tzinfo=tz) for monday in weeks[1:]]

    def among(low: int, high: int):  # weeks low..high
        if low == high:
            return Value(low)
        middle = (low + high + 1) // 2  # the first week of the upper half
        return ObjectCase(
            When(**{f"{field}__lt": starts[middle - 1]}, then=among(low, middle - 1)),
            default=among(middle, high),
            output_field=IntegerField(),
        )

    return among(0, len(weeks) - 1)


def hour_of_week(field: str, zone, start: dt.datetime, end: dt.datetime):
    """The hour of the local week (0 = Monday 00:00–01:00) of an instant in [start, end)."""
    origin = (start - dt.timedelta(days=8)).date()
    origin -= dt.timedelta(days=origin.weekday())
    return _Whole(local_seconds(field, zone, origin, start, end), 3600, WEEK)
