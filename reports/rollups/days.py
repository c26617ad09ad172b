"""UTC days: what the daily rollups count by, and how spans of time in any zone are read from
them: each day whole for the span holding most of it, the odd hours from the rows themselves."""

import datetime as dt
import functools
from dataclasses import dataclass

from django.db.models import BooleanField, Case, CharField, Expression, F, Func, IntegerField, Q

from reports.rollups.weeks import DAILY, WEEKLY, split_runs

UTC = dt.UTC
ONE_DAY, HALF_DAY = dt.timedelta(days=1), dt.timedelta(hours=12)
_NONE = object()  # a day no span holds most of


class UtcDate(Func):
    """The UTC calendar date of a datetime column, cheaply on both databases (SQLite keeps UTC
    text, so it is its first ten characters)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="substr(%(expressions)s, 1, 10)", **extra_context
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            **extra_context,
        )


@dataclass(frozen=True)
class Correction:
    """Rows in [start, end) to add to span `add` and take from span `sub` (None: neither)."""

    add: object
    sub: object
    start: dt.datetime
    end: dt.datetime


def span_keys(spans: dict) -> tuple[Q, Case | None, tuple[Correction, ...]]:
    """For spans {key: (start, end)}: the rollups' filter on `day` and a CASE naming each day's
    span (None when no day is read), and the corrections to read from the rows themselves.
    A page asks for the same spans (its period and the previous, its weeks) a dozen times: the
    answer is kept, and the filter and CASE are shared by the queries (Django copies them).

    Each UTC day goes whole to the span that holds most of it (at least half), so the rows are
    read only for the smaller pieces: the hours of a day that belong to another span are added
    to that span and taken from the day's, and the hours of a day no span holds most of are
    added to theirs. A viewer an hour off UTC reads an hour per boundary, not a day. The spans
    must not overlap (a period and the one before it; the weeks of a period)."""
    return _span_keys(tuple(spans.items()))


@functools.lru_cache(maxsize=64)
def _span_keys(spans: tuple) -> tuple[Q, Case | None, tuple[Correction, ...]]:
    owner: dict[dt.date, object] = {}
    pieces: dict[dt.date, list[tuple]] = {}
    for key, (start, end) in spans:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        day = start.date()
        while _midnight(day) < end:
            a, b = max(start, _midnight(day)), min(end, _midnight(day + ONE_DAY))
            if a < b:
                pieces.setdefault(day, []).append((key, a, b))
                if b - a >= HALF_DAY and day not in owner:
                    owner[day] = key
            day += ONE_DAY
    corrections = []
    for day, held in sorted(pieces.items()):
        mine = owner.get(day, _NONE)
        for key, a, b in held:
            if key != mine:
                corrections.append(Correction(key, None if mine is _NONE else mine, a, b))
        if mine is not _NONE:  # the day's hours no span holds: taken from its owner
            at = _midnight(day)
            for _key, a, b in sorted(held, key=lambda piece: piece[1]):
                if at < a:
                    corrections.append(Correction(None, mine, at, a))
                at = max(at, b)
            if at < _midnight(day + ONE_DAY):
                corrections.append(Correction(None, mine, at, _midnight(day + ONE_DAY)))
    runs = _runs(owner)
    daily, weekly = split_runs(runs)
    days = Q(pk__in=[])
    for first, last in daily:
        days |= Q(days=DAILY, day__gte=first, day__lte=last)
    for first, last in weekly:
        days |= Q(days=WEEKLY, day__gte=first, day__lte=last)
    # The filter keeps only the runs' days (a weekly row's Monday and week lie in one run) and
    # the runs are in order, so a row's span is that of the first run ending on or after its day:
    # one comparison per WHEN.
    cuts = tuple((last, key) for key, _first, last in runs)
    return days, UpToCase("day", cuts) if cuts else None, tuple(corrections)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=UTC)


def _runs(owner: dict) -> list[tuple]:
    """[(span, first day, last day)] of consecutive days with one owner: a short SQL filter."""
    runs: list[list] = []
    for day in sorted(owner):
        if runs and runs[-1][0] == owner[day] and runs[-1][2] + ONE_DAY == day:
            runs[-1][2] = day
        else:
            runs.append([owner[day], day, day])
    return [tuple(run) for run in runs]


@functools.lru_cache(maxsize=64)
def corrections_case(
    field: str, corrections: tuple[Correction, ...]
) -> tuple["InRanges", "RangesCase", "RangesCase"]:
    """The rows' filter on `field` for the corrections, and CASEs naming the span each row is
    added to and the span it is taken from (NULL for none)."""
    ranges = tuple((c.start, c.end) for c in corrections)
    return (
        InRanges(field, ranges),
        RangesCase(field, tuple((c.start, c.end, c.add) for c in corrections if c.add is not None)),
        RangesCase(field, tuple((c.start, c.end, c.sub) for c in corrections if c.sub is not None)),
    )


class _Ranges(Expression):
    """SQL over fixed instants of one column (ranges [start, end), or cuts), written here in one
    step: as Django Whens and Qs, each is a filter to resolve for every query that uses it (about
    2 ms of Python a query for a viewer's dozen week edges). The SQL is the one Django writes."""

    contains_aggregate = False
    contains_over_clause = False

    def __init__(self, field: str, ranges: tuple):
        super().__init__()
        self.column, self.ranges = F(field), ranges

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    @functools.cached_property
    def identity(self):
        return (type(self), id(self))

    def _range(self, compiler, connection, start, end) -> tuple[str, list]:
        column, params = compiler.compile(self.column)
        field = self.column.output_field
        bounds = [field.get_db_prep_value(at, connection) for at in (start, end)]
        return f"({column} >= %s AND {column} < %s)", [*params, bounds[0], *params, bounds[1]]


class InRanges(_Ranges):
    """The rows whose column lies in one of the ranges ((start, end), ...)."""

    output_field = BooleanField()
    conditional = True

    def as_sql(self, compiler, connection):
        if not self.ranges:
            return "1 = 0", []
        parts = [self._range(compiler, connection, start, end) for start, end in self.ranges]
        return "(" + " OR ".join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]


class RangesCase(_Ranges):
    """The value of the range ((start, end, value), ...) a row's column lies in, else NULL."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection):
        whens, params = [], []
        for start, end, value in self.ranges:
            sql, range_params = self._range(compiler, connection, start, end)
            whens.append(f"WHEN {sql} THEN %s")
            params += [*range_params, value]
        if not whens:
            return "NULL", []
        return f"CASE {' '.join(whens)} ELSE NULL END", params


class UpToCase(_Ranges):
    """The value of the first cut ((last, value), ...) a row's column is at or before, else
    NULL: the span of a rollup row's day."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        field = self.column.output_field
        whens, params = [], []
        for last, value in self.ranges:
            whens.append(f"WHEN {column} <= %s THEN %s")
            params += [*column_params, field.get_db_prep_value(last, connection), value]
        return f"CASE {' '.join(whens)} ELSE NULL END", params
