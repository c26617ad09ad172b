"""What a metric family hands the reports page: figures with their definitions and the rows
behind them, breakdowns, and chart data. Families (one module each in reports/metrics/) compute
everything in the database, a fixed number of queries whatever the rows.

A family's `build(ctx)` returns a `Section`. `ctx.specialist` is None for the team's figures,
or the person whose own figures are asked (a Specialist sees theirs beside the team's totals;
the page builds the section twice and pairs the figures by key).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Q

from reports.periods import Period

Unit = Literal["percent", "seconds", "count", "hours", "ratio"]
Better = Literal["up", "down"] | None


@dataclass(frozen=True)
class Drill:
    """A link to the rows behind a number: the row list's key (reports.rows) and its filters.
    `previous` links to the previous period's rows instead of the current one's."""

    rows: str
    filters: tuple[tuple[str, str], ...] = ()
    previous: bool = False

    def with_filters(self, **filters) -> "Drill":
        return Drill(self.rows, self.filters + tuple((k, str(v)) for k, v in filters.items()), self.previous)


@dataclass
class Figure:
    """One headline number. `sample` is how many items it is computed from (shown beside it,
    so a small sample is seen as small); `target` a goal in the same unit, when there is one."""

    key: str
    label: str
    unit: Unit
    value: float | None
    previous: float | None
    definition: str
    better: Better = None
    sample: int | None = None
    sample_label: str = ""
    drill: Drill | None = None
    target: float | None = None
    team: "Figure | None" = None  # the team's figure beside a Specialist's own (filled by the page)


@dataclass
class Cell:
    value: float | None
    unit: Unit
    drill: Drill | None = None


@dataclass
class Breakdown:
    """A table: one row per tier, specialist, category, venue … `columns` head the cells."""

    key: str
    title: str
    dimension: str  # the first column's heading, e.g. "Tier"
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    definition: str = ""


@dataclass
class ChartData:
    """A chart and the table of its numbers: `kind` is "trend" (x = ISO week starts), or
    "distribution" (x = bucket labels). Drawn by reports.charts in the view."""

    key: str
    title: str
    description: str
    kind: Literal["trend", "distribution"]
    x: list  # week start dates, or bucket labels
    series: dict[str, list[float | None]]
    unit: Unit = "count"


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)
    charts: list[ChartData] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class ReportContext:
    period: Period
    previous: Period
    specialist: object | None = None  # a User: only their own items; None: the team
    # Only the headline figures are read: the team's beside a Specialist's own, where the
    # breakdowns, charts and per-week counts would be built and never shown.
    figures_only: bool = False

    @property
    def span(self) -> tuple[dt.datetime, dt.datetime]:
        """Both periods together: one scan serves the figure and its comparison."""
        return self.previous.start, self.period.end


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    roles: tuple[str, ...]
    build: Callable[[ReportContext], Section]
    order: int = 100
    per_person: bool = True  # False: the same for everyone (no "yours" figures)


def in_period(field_name: str, period: Period) -> Q:
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})


def ratio(part: int | None, whole: int | None) -> float | None:
    """part ÷ whole as a percentage; None (shown as "—") when there is nothing to divide by."""
    return None if not whole else 100.0 * (part or 0) / whole


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_spans(ctx: ReportContext) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    """The previous period as span −1 and the weeks of the period (weeks_of, from Monday in the
    period's time zone, cut to the period) as spans 0, 1, …: what the rollups count by."""
    weeks = weeks_of(ctx.period)
    tz = ctx.period.start.tzinfo
    bounds = [
        ctx.period.start,
        *(dt.datetime.combine(monday, dt.time(0), tzinfo=tz) for monday in weeks[1:]),
        ctx.period.end,
    ]
    return {-1: (ctx.previous.start, ctx.previous.end)} | {
        i: (bounds[i], bounds[i + 1]) for i in range(len(weeks))
    }


def count_spans(ctx: ReportContext) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    """What a family counts by: week_spans, or the previous period (−1) and the whole period (0)
    when only the figures are read (no week's edge to correct the daily rollups at)."""
    if ctx.figures_only:
        return {-1: (ctx.previous.start, ctx.previous.end), 0: (ctx.period.start, ctx.period.end)}
    return week_spans(ctx)


def weeks_of(period: Period) -> list[dt.date]:
    """The ISO weeks (their Monday) that the period touches, oldest first."""
    first = week_start(period.start.date())
    last = (period.end - dt.timedelta(microseconds=1)).date()
    weeks = []
    while first <= last:
        weeks.append(first)
        first += dt.timedelta(days=7)
    return weeks


class Totals:
    """Sums over a family's grouped rows: totals(key, dimension=value, ...) adds `key` over the
    rows whose dimensions have those values. Each (key, dimensions) pair is summed in one pass
    and kept, so a section's dozens of cells do not each walk thousands of rows. A row without
    `key` adds nothing; a row without one of the dimensions matches no value of it."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self._sums: dict[tuple, dict[tuple, int]] = {}

    def __call__(self, key: str = "n", **where) -> int:
        dimensions = tuple(sorted(where))
        sums = self._sums.get((key, dimensions))
        if sums is None:
            sums = self._sums[(key, dimensions)] = {}
            for row in self.rows:
                if key in row and all(d in row for d in dimensions):
                    values = tuple(row[d] for d in dimensions)
                    sums[values] = sums.get(values, 0) + (row[key] or 0)
        return sums.get(tuple(where[d] for d in dimensions), 0)
