"""Response and resolution times, read from the SLA clocks (support.sla): the durations a clock
keeps when its target is achieved."""

from django.db.models import Count, Q

from portal.roles import Role
from reports.aggregates import percentiles, subset_percentiles
from reports.metrics.base import (
    Breakdown,
    Cell,
    ChartData,
    Drill,
    Family,
    Figure,
    ReportContext,
    Section,
    in_period,
)
from reports.rollups import band_counts_by_span, band_floor, banded_percentiles_of, rollups_refresh
from support.models import SlaClock

Metric = SlaClock.Metric
FIRST_RESPONSE_DEFINITION = (
    "First response time: for each conversation or case whose first reply to the user was sent in the "
    "period, the time from its opening (a conversation's creation, a case's filing) to that reply — the "
    "first-response SLA clock. Wall time counts the whole time; working time only the SLA calendar's "
    "working hours, less any time paused while waiting on the user. Median: half were answered "
    "faster; p90: nine in ten were."
)
RESOLUTION_DEFINITION = (
    "Resolution time: for each conversation closed or case decided in the period, the time from its "
    "opening (or its reopening: each reopening is timed again) to the close or decision — the "
    "resolution SLA clock. Wall and working time, median and p90, as for first response."
)
KINDS = (("conversation", "Conversations"), ("case", "Cases"))
MEASURES = (("wall_seconds", "wall"), ("working_seconds", "working"))
TIMED = (
    (Metric.FIRST_RESPONSE, "First response", FIRST_RESPONSE_DEFINITION),
    (Metric.RESOLUTION, "Resolution", RESOLUTION_DEFINITION),
)
BUCKETS = (
    ("< 15 min", 0, 15 * 60),
    ("15–60 min", 15 * 60, 3600),
    ("1–4 h", 3600, 4 * 3600),
    ("4–24 h", 4 * 3600, 86400),
    ("1–3 days", 86400, 3 * 86400),
    ("> 3 days", 3 * 86400, None),
)
ALL_ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)


def achieved_clocks(metric: str, kind: str, period, specialist=None, measure: str = "wall_seconds"):
    """The clocks of one metric on one kind of item achieved in the period (the rows behind a
    time). The filter names the measure and the kind, as the partial indexes do."""
    clocks = SlaClock.objects.filter(_subset(metric, kind, period, measure))
    return clocks if specialist is None else clocks.filter(item_assignee=specialist)


def _subset(metric: str, kind: str, period, measure: str) -> Q:
    return in_period("stopped_at", period) & Q(
        metric=metric, **{f"{kind}__isnull": False, f"{measure}__isnull": False}
    )


def _bands(ctx: ReportContext) -> dict | None:
    """The team's duration bands of both periods {"now"/"before": band_counts}, read once for
    the percentiles and the distribution (None for a Specialist's own figures)."""
    if ctx.specialist is not None:
        return None
    rollups_refresh()
    counts = band_counts_by_span(
        {1: (ctx.period.start, ctx.period.end), 0: (ctx.previous.start, ctx.previous.end)}
    )
    return {"now": counts.get(1, {}), "before": counts.get(0, {})}


def _times(ctx: ReportContext, bands: dict | None) -> dict:
    """{(metric, kind, measure, "now"/"before"): Percentiles}: wall time in both periods, working
    time in this one (the comparison is made on wall time)."""
    periods = {"now": ctx.period, "before": ctx.previous}
    wanted = [
        (metric, kind, measure, when)
        for metric, _label, _definition in TIMED
        for kind, _ in KINDS
        for measure, _ in MEASURES
        for when in periods
        if measure == "wall_seconds" or when == "now"
    ]
    if bands is not None:
        return _banded(wanted, periods, bands)
    # A Specialist's own clocks: few enough to sort them all (percentile_cont on PostgreSQL);
    # their assignee, not a value order, finds them.
    start, end = ctx.span
    clocks = SlaClock.objects.filter(
        stopped_at__gte=start, stopped_at__lt=end, metric__in=[metric for metric, _, _ in TIMED]
    )  # the span's clocks only: the report index, not the table
    if ctx.specialist is not None:
        clocks = clocks.filter(item_assignee=ctx.specialist)
    figures = {}
    for measure, _ in MEASURES:
        subsets = {
            key: _subset(key[0], key[1], periods[key[3]], measure) for key in wanted if key[2] == measure
        }
        figures |= subset_percentiles(clocks, measure, subsets, sqlite_ranked=False)
    return figures


def _banded(wanted, periods, bands) -> dict:
    """The team's percentiles from the daily duration bands and a short read in value order:
    the same figure as percentile_cont (tested on both databases), without sorting a period's
    clocks — on PostgreSQL the sorts took most of the page at a year of history."""
    subsets = {
        (metric, kind, measure, when): (
            bands[when].get((metric, kind, measure), {}),
            lambda metric=metric, kind=kind, measure=measure, when=when: achieved_clocks(
                metric, kind, periods[when], measure=measure
            ),
            measure,
        )
        for metric, kind, measure, when in wanted
    }
    return banded_percentiles_of(subsets, (0.5, 0.9))


def build(ctx: ReportContext) -> Section:
    bands = _bands(ctx)
    times = _times(ctx, bands)
    section = Section(key="times", title="Response and resolution times")
    for metric, label, definition in TIMED:
        for kind, kind_label in KINDS:
            for fraction, name in ((0, "median"), (1, "p90")):
                now, before = (
                    times[(metric, kind, "wall_seconds", "now")],
                    times[(metric, kind, "wall_seconds", "before")],
                )
                section.figures.append(
                    Figure(
                        key=f"{metric}_{kind}_{name}",
                        label=f"{kind_label}: {label.lower()} time, {name}",
                        unit="seconds",
                        value=now.values[fraction],
                        previous=before.values[fraction],
                        definition=definition,
                        better="down",
                        sample=now.count,
                        sample_label="timed",
                        drill=_drill(metric, kind),
                    )
                )
    if ctx.figures_only:
        return section
    section.breakdowns = [_table(times)]
    section.charts = [_distribution(ctx, bands)]
    return section


def first_response_headline(ctx: ReportContext) -> list[Figure]:
    """Conversations' median first response time (wall), this period and the previous."""
    now, before = (
        percentiles(
            achieved_clocks(Metric.FIRST_RESPONSE, "conversation", period, ctx.specialist), "wall_seconds"
        )[()]
        for period in (ctx.period, ctx.previous)
    )
    return [
        Figure(
            key="first_response_conversation_median",
            label="Conversations: first response time, median",
            unit="seconds",
            value=now.values[0],
            previous=before.values[0],
            definition=FIRST_RESPONSE_DEFINITION,
            better="down",
            sample=now.count,
            sample_label="timed",
            drill=_drill(Metric.FIRST_RESPONSE, "conversation"),
        )
    ]


def _drill(metric: str, kind: str) -> Drill:
    return Drill("sla-clocks").with_filters(metric=metric, kind=kind, outcome="achieved")


def _table(times) -> Breakdown:
    rows = []
    for metric, label, _definition in TIMED:
        for kind, kind_label in KINDS:
            cells = []
            for measure, _ in MEASURES:
                now = times[(metric, kind, measure, "now")]
                cells += [Cell(now.values[0], "seconds"), Cell(now.values[1], "seconds")]
            before = times[(metric, kind, "wall_seconds", "before")]
            cells += [Cell(before.values[0], "seconds"), Cell(now.count, "count", _drill(metric, kind))]
            rows.append((f"{kind_label}: {label.lower()}", cells))
    return Breakdown(
        key="times-table",
        title="Response and resolution times",
        dimension="Measure",
        columns=[
            "Median (wall)",
            "p90 (wall)",
            "Median (working)",
            "p90 (working)",
            "Median before (wall)",
            "Timed",
        ],
        rows=rows,
        definition=f"{FIRST_RESPONSE_DEFINITION} {RESOLUTION_DEFINITION}",
    )


def _distribution(ctx: ReportContext, team_bands: dict | None) -> ChartData:
    """Conversations' first response times in bands, this period and the previous."""
    totals = {}
    for when, period in (("now", ctx.period), ("before", ctx.previous)):
        if team_bands is not None:
            bands = team_bands[when].get((Metric.FIRST_RESPONSE, "conversation", "wall_seconds"), {})
            for i, (_label, low, high) in enumerate(BUCKETS):
                totals[f"{when}_{i}"] = sum(
                    n
                    for band, n in bands.items()
                    if band_floor(band) >= low and (high is None or band_floor(band) < high)
                )
        else:
            clocks = achieved_clocks(Metric.FIRST_RESPONSE, "conversation", period, ctx.specialist)
            totals |= clocks.aggregate(
                **{
                    f"{when}_{i}": Count(
                        "pk", filter=Q(wall_seconds__gte=low) & (Q(wall_seconds__lt=high) if high else Q())
                    )
                    for i, (_label, low, high) in enumerate(BUCKETS)
                }
            )
    return ChartData(
        key="first-response-bands",
        title="Conversations: first response time",
        description="How many conversations got their first reply within each band of wall time, this period and the one before.",
        kind="distribution",
        x=[label for label, _low, _high in BUCKETS],
        series={
            "This period": [totals[f"now_{i}"] for i in range(len(BUCKETS))],
            "Previous period": [totals[f"before_{i}"] for i in range(len(BUCKETS))],
        },
    )


FAMILY = Family(key="times", title="Response and resolution times", roles=ALL_ROLES, build=build, order=20)
