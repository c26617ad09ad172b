"""SLA attainment: of the clocks that finished in the period, how many met their target."""

from django.db.models import Case, CharField, Count, F, IntegerField, Q, Value, When
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
    if specialist is None:
        return clocks
    return clocks.filter(Q(conversation__assignee=specialist) | Q(case__assignee=specialist))


def build(ctx: ReportContext) -> Section:
    section = Section(key="sla", title="SLA attainment", figures=headline(ctx))
    start, end = ctx.span
    clocks = _mine(
        SlaClock.objects.filter(stopped_at__gte=start, stopped_at__lt=end, status__in=DECIDED), ctx.specialist
    )
    open_breached = _mine(SlaClock.objects.filter(status=Status.BREACHED), ctx.specialist).count()
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
    section.breakdowns = _breakdowns(clocks, ctx)
    return section


def headline(ctx: ReportContext) -> list[Figure]:
    """Attainment per metric, this period and the previous, in one query."""
    start, end = ctx.span
    clocks = _mine(
        SlaClock.objects.filter(stopped_at__gte=start, stopped_at__lt=end, status__in=DECIDED), ctx.specialist
    )
    counts = {}
    for metric in Metric.values:
        for when, period in (("now", ctx.period), ("before", ctx.previous)):
            for status in DECIDED:
                counts[f"{metric}_{when}_{status}"] = Count(
                    "pk", filter=Q(metric=metric, status=status) & in_period("stopped_at", period)
                )
    totals = clocks.aggregate(**counts)
    figures = []
    for metric, label in Metric.choices:
        hit, missed = totals[f"{metric}_now_hit"], totals[f"{metric}_now_missed"]
        figures.append(
            Figure(
                key=f"attainment_{metric}",
                label=f"{label} SLA met",
                unit="percent",
                value=ratio(hit, hit + missed),
                previous=ratio(
                    totals[f"{metric}_before_hit"],
                    totals[f"{metric}_before_hit"] + totals[f"{metric}_before_missed"],
                ),
                definition=ATTAINMENT_DEFINITION,
                better="up",
                sample=hit + missed,
                sample_label="finished",
                drill=Drill("sla-clocks").with_filters(metric=metric, outcome="finished"),
            )
        )
    return figures


def _breakdowns(clocks, ctx) -> list[Breakdown]:
    """Hit and missed clocks of the period per (metric, kind, tier, person), in one grouped
    query; each breakdown sums these rows."""
    groups = list(
        clocks.filter(in_period("stopped_at", ctx.period))
        .annotate(
            kind=Case(
                When(case__isnull=False, then=Value("case")),
                default=Value("conversation"),
                output_field=CharField(),
            ),
            tier=Coalesce(F("conversation__account__tier_id"), F("case__account__tier_id")),
            person=Coalesce(F("conversation__assignee_id"), F("case__assignee_id")),
            hit=Case(When(status=Status.HIT, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .values("metric", "kind", "tier", "person", "hit")
        .annotate(n=Count("pk"))
        .order_by()
    )
    tiers = tier_names()
    dimensions = [
        ("kind", "Kind", {"conversation": "Conversations", "case": "Cases"}, ["conversation", "case"]),
        ("tier", "Tier", tiers, list(tiers)),
    ]
    if ctx.specialist is None:
        people = people_names(row["person"] for row in groups)
        dimensions.append(
            ("person", "Specialist", people, sorted_by_name(people, {row["person"] for row in groups}))
        )
    breakdowns = []
    for dimension, heading, names, order in dimensions:
        sums: dict = {}
        for row in groups:
            hits = sums.setdefault((row[dimension], row["metric"]), [0, 0])
            hits[0 if row["hit"] else 1] += row["n"]
        rows = []
        for value in order:
            if not any((value, metric) in sums for metric in Metric.values):
                continue
            cells = []
            for metric in Metric.values:
                hit, missed = sums.get((value, metric), (0, 0))
                drill = Drill("sla-clocks").with_filters(
                    metric=metric, outcome="finished", **{dimension: "none" if value is None else value}
                )
                cells.append(Cell(ratio(hit, hit + missed), "percent", drill))
                cells.append(
                    Cell(
                        missed,
                        "count",
                        Drill("sla-clocks").with_filters(
                            metric=metric, outcome="missed", **{dimension: "none" if value is None else value}
                        ),
                    )
                )
            rows.append((names.get(value, UNASSIGNED), cells))
        breakdowns.append(
            Breakdown(
                key=f"sla-{dimension}",
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
    filters, period = query.filters, query.period
    clocks = _mine(SlaClock.objects.all(), query.specialist)
    outcome = filters.get("outcome", "finished")
    if outcome == "achieved":
        clocks = clocks.filter(in_period("achieved_at", period), wall_seconds__isnull=False)
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
        tier = filters["tier"]
        if tier is None:  # conversations not linked to an account
            clocks = clocks.filter(case__isnull=True, conversation__account__isnull=True)
        else:
            clocks = clocks.filter(Q(conversation__account__tier_id=tier) | Q(case__account__tier_id=tier))
    if "person" in filters:
        person = filters["person"]
        if person is None:
            clocks = clocks.filter(
                Q(conversation__isnull=False, conversation__assignee__isnull=True)
                | Q(case__isnull=False, case__assignee__isnull=True)
            )
        else:
            clocks = clocks.filter(Q(conversation__assignee_id=person) | Q(case__assignee_id=person))
    return clocks.annotate(
        item=Coalesce(F("case__reference"), F("conversation__intercom_id")),
        account_name=Coalesce(F("case__account__display_name"), F("conversation__account__display_name")),
        tier_name=Coalesce(F("case__account__tier__name"), F("conversation__account__tier__name")),
        specialist=Coalesce(person_name("case__assignee"), person_name("conversation__assignee")),
    ).order_by("-stopped_at", "-pk")


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
