"""Disputes: cases opened and decided, how they were decided, amendments, and the four-eyes
approvals with their wait."""

from django.db.models import Count, IntegerField, Q, Value, When

from accounts.models import Venue
from disputes.models import AMENDS, FOUR_EYES, Decision, DisputeCase
from portal.roles import Role
from reports.aggregates import ObjectCase, percentiles, seconds_between
from reports.metrics.base import (
    Breakdown,
    Cell,
    ChartData,
    Drill,
    Family,
    Figure,
    ReportContext,
    Section,
    Totals,
    ratio,
    week_spans,
    weeks_of,
)
from reports.metrics.dimensions import UNASSIGNED, people_names, sorted_by_name
from reports.rollups import CASES, DECIDED, OPENED, rollups_refresh

Category, Outcome = DisputeCase.Category, Decision.Outcome
OPENED_DEFINITION = "Cases opened = dispute cases filed in the period (by the time they were filed)."
DECIDED_DEFINITION = (
    "Cases decided = cases whose decision took effect in the period (recorded, or approved when it "
    "needed four eyes). An amended case counts once, in the period of its latest decision, with that "
    "decision's outcome."
)
OUTCOME_DEFINITION = (
    "Outcome mix = the cases decided in the period by the outcome of their decision in force, as a "
    "count and as a share of the cases decided."
)
AMENDED_DEFINITION = (
    "Decisions amended = amendments (decisions that replace an earlier recorded decision on the same "
    "case) that took effect in the period."
)
APPROVALS_DEFINITION = (
    "Four-eyes approvals = proposed decisions (above the four-eyes amount) approved by a second "
    "Specialist in the period. The wait is from the proposal to its approval, in wall time: median "
    "and p90 over the approvals of the period."
)
AFTER_HEADS_UP_DEFINITION = (
    "Cases after a heads-up = cases opened in the period about a market of which the resolution "
    "radar had warned the account's owner, naming that account, in the 30 days before; out of the "
    "cases opened."
)
ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)
RECORDED = Decision.State.RECORDED
AMENDMENT = AMENDS


def _current(field: str, ctx: ReportContext):
    """1 for this period's rows, 0 for the previous period's (the query keeps both)."""
    return ObjectCase(
        When(**{f"{field}__gte": ctx.period.start}, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _span(field: str, ctx: ReportContext) -> Q:
    start, end = ctx.span
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _cases(specialist):
    cases = DisputeCase.objects.all()
    return cases if specialist is None else cases.filter(assignee=specialist)


def _decisions(specialist):
    decisions = Decision.objects.all()
    return decisions if specialist is None else decisions.filter(case__assignee=specialist)


def _counted(ctx: ReportContext, event: str, *dimensions) -> list[dict]:
    """Cases of both periods from the daily rollups and the hours around them: rows {current,
    *dimensions, n} (the previous period's with current 0), then this period's per week as rows
    {current: 1, n: 0, week_<i>} — two small reads rather than every week × dimension."""
    only = {} if ctx.specialist is None else {"assignee": ctx.specialist.pk}
    # decided: only cases with a recorded decision (an outcome)
    wanted = (lambda row: row["outcome"] is not None) if event == DECIDED else (lambda row: True)
    periods = {0: (ctx.previous.start, ctx.previous.end), 1: (ctx.period.start, ctx.period.end)}
    by = (*dimensions, "outcome") if event == DECIDED and "outcome" not in dimensions else dimensions
    rows = [
        {
            "current": row["span"],
            **{("assignee_id" if d == "assignee" else d): row[d] for d in by},
            "n": row["n"],
        }
        for row in CASES.counts(periods, event, by=by, **only)
        if wanted(row)
    ]
    if ctx.figures_only:
        return rows
    weeks = {i: span for i, span in week_spans(ctx).items() if i >= 0}
    by_week = ("outcome",) if event == DECIDED else ()
    rows += [
        {"current": 1, "n": 0, f"week_{row['span']}": row["n"]}
        for row in CASES.counts(weeks, event, by=by_week, **only)
        if wanted(row)
    ]
    return rows


def _groups(ctx: ReportContext) -> dict:
    """Cases opened and decided in both periods, counted per (period, category, venue, assignee
    [, outcome]); decisions taking effect per (period, amendment, four eyes): three queries."""
    rollups_refresh()
    dimensions = ("category", "venue", "assignee")
    taking_effect = (
        _decisions(ctx.specialist)
        .filter(_span("approved_at", ctx), AMENDMENT | FOUR_EYES)  # the rest count in neither
        .annotate(current=_current("approved_at", ctx))
        .values("current")
        .annotate(
            amended=Count("pk", filter=AMENDMENT),
            approvals=Count("pk", filter=FOUR_EYES),
        )
        .order_by()
    )
    return {
        "opened": Totals(_counted(ctx, OPENED, *dimensions)),
        "decided": Totals(_counted(ctx, DECIDED, *dimensions, "outcome")),
        "decisions": {row["current"]: row for row in taking_effect},
    }


def _total(totals: Totals, current: int, key: str = "n", **where) -> int:
    """The rows' sum of `key` in this period (current 1) or the previous (0); a weekly row has
    no dimensions, so it matches no breakdown's value."""
    return totals(key, current=current, **where)


def build(ctx: ReportContext) -> Section:
    groups = _groups(ctx)
    section = Section(key="disputes", title="Disputes", figures=_headline(groups, ctx))
    if ctx.figures_only:
        return section
    section.breakdowns = _breakdowns(groups, ctx)
    section.charts = [_trend(groups, ctx)]
    return section


def _headline(groups, ctx) -> list[Figure]:
    now, before = ({**groups["decisions"].get(when, {"amended": 0, "approvals": 0})} for when in (1, 0))
    for when, counts in ((1, now), (0, before)):
        counts["opened"], counts["decided"] = _total(groups["opened"], when), _total(groups["decided"], when)
    labels = {
        "opened": ("Cases opened", OPENED_DEFINITION, "cases-opened"),
        "decided": ("Cases decided", DECIDED_DEFINITION, "cases-decided-by-outcome"),
        "amended": ("Decisions amended", AMENDED_DEFINITION, "amended-decisions"),
        "approvals": ("Four-eyes approvals", APPROVALS_DEFINITION, "approvals"),
    }
    figures = [
        Figure(
            key=key,
            label=label,
            unit="count",
            value=now[key],
            previous=before[key],
            definition=text,
            drill=Drill(rows),
        )
        for key, (label, text, rows) in labels.items()
    ]
    figures[2].better = "down"
    after = _after_heads_up(ctx)
    figures.append(
        Figure(
            key="after_heads_up",
            label="Cases after a heads-up",
            unit="count",
            value=after.get(1, 0),
            previous=after.get(0, 0),
            definition=AFTER_HEADS_UP_DEFINITION,
            sample=now["opened"],
            sample_label="cases opened",
        )
    )
    waits = _approval_waits(ctx)
    wait_now, wait_before = waits.get(1, (None, None)), waits.get(0, (None, None))
    for i, fraction in enumerate(("median", "p90")):
        figures.append(
            Figure(
                key=f"approval_wait_{fraction}",
                label=f"Approval wait, {fraction}",
                unit="seconds",
                value=wait_now[i],
                previous=wait_before[i],
                definition=APPROVALS_DEFINITION,
                better="down",
                sample=now["approvals"],
                sample_label="approvals",
                drill=Drill("approvals"),
            )
        )
    return figures


def _after_heads_up(ctx) -> dict[int, int]:
    """{1: cases opened this period after a heads-up, 0: the previous period's}, in one query."""
    counted = (
        _cases(ctx.specialist)
        .filter(_span("created_at", ctx), heads_up__isnull=False)
        .annotate(current=_current("created_at", ctx))
        .values("current")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["current"]: row["n"] for row in counted}


def _approval_waits(ctx) -> dict[int, tuple]:
    """{1: (median, p90) this period, 0: the previous period's}, in one query."""
    approved = (
        _decisions(ctx.specialist)
        .filter(_span("approved_at", ctx), FOUR_EYES)
        .annotate(current=_current("approved_at", ctx))
    )
    found = percentiles(
        approved, seconds_between("proposed_at", "approved_at"), (0.5, 0.9), group_by="current"
    )
    return {key[0]: figures.values for key, figures in found.items()}


def _breakdowns(groups, ctx) -> list[Breakdown]:
    opened, decided = groups["opened"], groups["decided"]
    dimensions = [
        ("category", "Category", dict(Category.choices), list(Category.values)),
        ("venue", "Venue", dict(Venue.choices), list(Venue.values)),
    ]
    if ctx.specialist is None:
        people_ids = {row["assignee_id"] for row in opened.rows + decided.rows if "assignee_id" in row}
        people = people_names(people_ids)
        dimensions.append(("assignee_id", "Specialist", people, sorted_by_name(people, people_ids)))
    breakdowns = []
    for column, heading, names, order in dimensions:
        name = "person" if column == "assignee_id" else column
        rows = []
        for value in order:
            where = {column: value}
            counts = [_total(opened, 1, **where), _total(decided, 1, **where)]
            before = [_total(opened, 0, **where), _total(decided, 0, **where)]
            if not any(counts + before):
                continue
            filters = {name: "none" if value is None else value}
            rows.append(
                (
                    names.get(value, UNASSIGNED),
                    [
                        Cell(counts[0], "count", Drill("cases-opened").with_filters(**filters)),
                        Cell(counts[1], "count", Drill("cases-decided-by-outcome").with_filters(**filters)),
                        Cell(
                            before[0], "count", Drill("cases-opened", previous=True).with_filters(**filters)
                        ),
                        Cell(
                            before[1],
                            "count",
                            Drill("cases-decided-by-outcome", previous=True).with_filters(**filters),
                        ),
                    ],
                )
            )
        breakdowns.append(
            Breakdown(
                key=f"disputes-{name}",
                title=f"Cases by {heading.lower()}",
                dimension=heading,
                columns=["Opened", "Decided", "Opened before", "Decided before"],
                rows=rows,
                definition=f"{OPENED_DEFINITION} {DECIDED_DEFINITION}",
            )
        )
    decided_now, decided_before = _total(decided, 1), _total(decided, 0)
    mix = []
    for outcome, label in Outcome.choices:
        now, before = _total(decided, 1, outcome=outcome), _total(decided, 0, outcome=outcome)
        drill = Drill("cases-decided-by-outcome").with_filters(outcome=outcome)
        mix.append(
            (
                label,
                [
                    Cell(now, "count", drill),
                    Cell(ratio(now, decided_now), "percent", drill),
                    Cell(ratio(before, decided_before), "percent"),
                ],
            )
        )
    breakdowns.append(
        Breakdown(
            key="disputes-outcome",
            title="Outcome mix",
            dimension="Outcome",
            columns=["Decided", "Share", "Share before"],
            rows=mix,
            definition=OUTCOME_DEFINITION,
        )
    )
    return breakdowns


def _trend(groups, ctx) -> ChartData:
    weeks = weeks_of(ctx.period)
    series = {
        label: [_total(groups[key], 1, f"week_{i}") for i in range(len(weeks))]
        for label, key in (("Opened", "opened"), ("Decided", "decided"))
    }
    return ChartData(
        key="disputes-trend",
        title="Cases opened and decided per week",
        description=f"Cases filed and cases decided in each of the {len(weeks)} weeks of the period.",
        kind="trend",
        x=weeks,
        series=series,
    )


FAMILY = Family(key="disputes", title="Disputes", roles=ROLES, build=build, order=70)
