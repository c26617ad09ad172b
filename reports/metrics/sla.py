"""SLA attainment: of the clocks that finished in the period, how many met their target."""

from django.db.models import F
from django.db.models.functions import Coalesce

from portal.columns import Column
from portal.roles import Role
from reports.metrics.base import (
    Breakdown,
    Cell,
    Drill,
    Family,
    Figure,
    ReportContext,
    Section,
    in_period,
    ratio,
)
from reports.metrics.dimensions import UNASSIGNED, people_names, person_name, sorted_by_name, tier_names
from reports.rollups import clock_counts_by_span, rollups_refresh
from reports.rows import RowList, RowQuery, one_of, positive_id, register_rows
from support.models import SlaClock

Metric, Status = SlaClock.Metric, SlaClock.Status
ATTAINMENT_DEFINITION = (
    "SLA attainment % = targets hit ÷ (hit + missed), over the SLA clocks that stopped in the period: a "
    "clock is hit when its target (first response, next response or resolution) was achieved by its due "
    "time in the policy's working hours, missed when achieved late or stopped unachieved after it was "
    "due. Clocks cancelled before their due time (the policy stopped applying) do not count."
)
BREACHED_OPEN_DEFINITION = "Items still waiting past their due time now: running clocks already breached."
ALL_ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)
DECIDED = (Status.HIT, Status.MISSED)


def _mine(clocks, specialist):
    return clocks if specialist is None else clocks.filter(item_assignee=specialist)


def build(ctx: ReportContext) -> Section:
    groups = _groups(ctx)
    open_breached = _mine(SlaClock.objects.filter(status=Status.BREACHED), ctx.specialist).count()
    section = Section(key="sla", title="SLA attainment", figures=_headline(groups))
    section.figures.append(
        Figure(
            key="breached_open",
            label="Past due now",
            unit="count",
            value=open_breached,
            previous=None,
            definition=BREACHED_OPEN_DEFINITION,
            better="down",
            drill=Drill("sla-clocks").with_filters(outcome="breached-open"),
        )
    )
    if not ctx.figures_only:
        section.breakdowns = _breakdowns(groups, ctx)
    return section


def headline(ctx: ReportContext) -> list[Figure]:
    """Attainment per metric, this period against the previous."""
    return _headline(_groups(ctx))


def _groups(ctx: ReportContext) -> list[dict]:
    """The hit and missed clocks of both periods per (period, metric, status, kind, tier,
    assignee), from the daily rollups and the hours around them; every figure and breakdown
    sums these rows."""
    rollups_refresh()
    spans = {1: (ctx.period.start, ctx.period.end), 0: (ctx.previous.start, ctx.previous.end)}
    return [
        {
            **row,
            "current": row["span"],
            "item_tier_id": row["tier"],
            "item_assignee_id": row["assignee"],
            "n": row["clocks"],
        }
        for row in clock_counts_by_span(spans, specialist=ctx.specialist)
        if row["status"] in DECIDED
    ]


def _headline(groups) -> list[Figure]:
    totals: dict = {}
    for row in groups:
        key = (row["metric"], row["current"], row["status"])
        totals[key] = totals.get(key, 0) + row["n"]
    figures = []
    for metric, label in Metric.choices:
        hit, missed = totals.get((metric, 1, Status.HIT), 0), totals.get((metric, 1, Status.MISSED), 0)
        hit_before, missed_before = (
            totals.get((metric, 0, Status.HIT), 0),
            totals.get((metric, 0, Status.MISSED), 0),
        )
        figures.append(
            Figure(
                key=f"attainment_{metric}",
                label=f"{label} SLA met",
                unit="percent",
                value=ratio(hit, hit + missed),
                previous=ratio(hit_before, hit_before + missed_before),
                definition=ATTAINMENT_DEFINITION,
                better="up",
                sample=hit + missed,
                sample_label="finished",
                drill=Drill("sla-clocks").with_filters(metric=metric, outcome="finished"),
            )
        )
    return figures


def _breakdowns(groups, ctx) -> list[Breakdown]:
    current = [row for row in groups if row["current"]]
    tiers = tier_names()
    dimensions = [
        (
            "kind",
            "kind",
            "Kind",
            {"conversation": "Conversations", "case": "Cases"},
            ["conversation", "case"],
        ),
        ("tier", "item_tier_id", "Tier", tiers, [*tiers, None]),
    ]
    if ctx.specialist is None:
        people = people_names(row["item_assignee_id"] for row in current)
        order = sorted_by_name(people, {row["item_assignee_id"] for row in current})
        dimensions.append(("person", "item_assignee_id", "Specialist", people, order))
    breakdowns = []
    for name, column, heading, names, order in dimensions:
        sums: dict = {}
        for row in current:
            hits = sums.setdefault((row[column], row["metric"]), [0, 0])
            hits[0 if row["status"] == Status.HIT else 1] += row["n"]
        rows = []
        for value in order:
            if not any((value, metric) in sums for metric in Metric.values):
                continue
            cells = []
            for metric in Metric.values:
                hit, missed = sums.get((value, metric), (0, 0))
                where = {name: "none" if value is None else value}
                finished = Drill("sla-clocks").with_filters(metric=metric, outcome="finished", **where)
                late = Drill("sla-clocks").with_filters(metric=metric, outcome="missed", **where)
                cells += [Cell(ratio(hit, hit + missed), "percent", finished), Cell(missed, "count", late)]
            rows.append((names.get(value, "No account" if name == "tier" else UNASSIGNED), cells))
        breakdowns.append(
            Breakdown(
                key=f"sla-{name}",
                title=f"SLA attainment by {heading.lower()}",
                dimension=heading,
                columns=[
                    f"{label} {column}" for _metric, label in Metric.choices for column in ("met", "missed")
                ],
                rows=rows,
                definition=ATTAINMENT_DEFINITION,
            )
        )
    return breakdowns


FAMILY = Family(key="sla", title="SLA attainment", roles=ALL_ROLES, build=build, order=30)


# The rows behind the figures: SLA clocks, for attainment and for response and resolution times.


def _nullable_id(label):
    parse = positive_id(label)
    return lambda raw: None if raw == "none" else parse(raw)


OUTCOMES = ("achieved", "finished", "hit", "missed", "breached-open")


def sla_clocks(query: RowQuery):
    return counted_clocks(query).annotate(
        item=Coalesce(F("case__reference"), F("conversation__intercom_id")),
        account_name=Coalesce(F("case__account__display_name"), F("conversation__account__display_name")),
        tier_name=F("item_tier__name"),
        specialist=person_name("item_assignee"),
    )


def counted_clocks(query: RowQuery):
    filters, period = query.filters, query.period
    clocks = _mine(SlaClock.objects.all(), query.specialist)
    outcome = filters.get("outcome", "finished")
    if outcome == "achieved":
        # An achieved clock stopped when it was achieved: the stop time is the report index's.
        clocks = clocks.filter(in_period("stopped_at", period), wall_seconds__isnull=False)
    elif outcome == "breached-open":
        clocks = clocks.filter(status=Status.BREACHED)
    else:
        statuses = DECIDED if outcome == "finished" else (outcome,)
        clocks = clocks.filter(in_period("stopped_at", period), status__in=statuses)
    if "metric" in filters:
        clocks = clocks.filter(metric=filters["metric"])
    if "kind" in filters:
        clocks = clocks.filter(**{f"{filters['kind']}__isnull": False})
    if "tier" in filters:
        clocks = clocks.filter(item_tier_id=filters["tier"])
    if "person" in filters:
        clocks = clocks.filter(item_assignee_id=filters["person"])
    return clocks.order_by("-stopped_at", "-pk")


SLA_COLUMNS = (
    Column("item", "Item", "item"),
    Column("metric", "Target", "metric"),
    Column("cycle", "Cycle", "cycle", numeric=True, table=False),
    Column("account", "Account", "account_name"),
    Column("tier", "Tier", "tier_name"),
    Column("specialist", "Specialist", "specialist"),
    Column("started", "Started", "started_at"),
    Column("due", "Due", "due_at"),
    Column("stopped", "Stopped", "stopped_at"),
    Column("status", "Outcome", "status"),
    Column("wall_seconds", "Wall seconds", "wall_seconds", numeric=True),
    Column("working_seconds", "Working seconds", "working_seconds", numeric=True),
)

register_rows(
    RowList(
        key="sla-clocks",
        title="SLA clocks",
        definition=ATTAINMENT_DEFINITION,
        columns=SLA_COLUMNS,
        rows=sla_clocks,
        counted=counted_clocks,
        roles=ALL_ROLES,
        filters={
            "metric": one_of("Target", Metric.values),
            "kind": one_of("Kind", ("conversation", "case")),
            "outcome": one_of("Outcome", OUTCOMES),
            "tier": _nullable_id("Tier"),
            "person": _nullable_id("Person"),
        },
    )
)
