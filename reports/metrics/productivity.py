"""Productivity: what each specialist finished, week by week (conversations closed and answered,
case replies sent, cases decided, check-ins logged, escalations acknowledged), beside the hours
the on-call rotas had them on shift. One grouped query per kind of work, counted in the
database per (person, week); the rotas' shifts are arithmetic over their specs."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, FilteredRelation, IntegerField, Q, Value, When

from accounts.models import CheckIn
from disputes.models import CaseEvent, Decision, DisputeCase
from oncall.models import Escalation, Rota
from oncall.rota import rota_specs, shifts
from portal.roles import Role
from reports.aggregates import ObjectCase
from reports.metrics.base import (
    Breakdown,
    Cell,
    ChartData,
    Drill,
    Family,
    Figure,
    ReportContext,
    Section,
    count_spans,
    weeks_of,
)
from reports.metrics.local_time import week_number
from reports.rollups import (
    CASES,
    CHECK_INS,
    CLOSED,
    DECIDED,
    HELD,
    clock_counts_by_span,
    conversation_counts,
    rollups_refresh,
)
from support.models import SlaClock

ALL_ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)
OTHERS = "Others (not Specialists, or nobody)"


@dataclass(frozen=True)
class Work:
    """One kind of work: the items, the instant that puts one in a week, who did it."""

    key: str
    label: str
    at: str
    person: str
    definition: str
    drill: Drill

    def items(self):
        return WORK_ITEMS[self.key]()


def recorded_decision(cases):
    return cases.annotate(
        recorded=FilteredRelation("decisions", condition=Q(decisions__state=Decision.State.RECORDED))
    )


WORK_ITEMS = {
    "replies": lambda: CaseEvent.objects.filter(kind=CaseEvent.Kind.REPLY, after__sent=True),
    "decided": lambda: recorded_decision(DisputeCase.objects.all()),
    "check_ins": lambda: CheckIn.objects.all(),
    "acknowledged": lambda: Escalation.objects.all(),
}

WORK = (
    Work(
        "closed",
        "Conversations closed",
        "closed_at",
        "assignee",
        "Conversations closed in the period, credited to the specialist assigned when they closed.",
        Drill("closed-conversations"),
    ),
    Work(
        "answered",
        "Conversations answered",
        "stopped_at",
        "item_assignee",
        "Conversations whose first reply to the user was sent in the period (the first-response SLA clock "
        "achieved), credited to the specialist assigned at that reply.",
        Drill("sla-clocks").with_filters(metric="first_response", kind="conversation", outcome="achieved"),
    ),
    Work(
        "replies",
        "Case replies sent",
        "at",
        "actor",
        "Replies to users sent from dispute cases in the period (queued to Intercom), by who sent them; a "
        "reply only prepared and kept in the case history is not counted.",
        Drill("case-replies"),
    ),
    Work(
        "decided",
        "Cases decided",
        "decided_at",
        "recorded__proposed_by",
        "Dispute cases whose decision was recorded in the period (an amendment counts again when it is "
        "recorded), credited to who wrote the decision, not its second approver.",
        Drill("decided-cases"),
    ),
    Work(
        "check_ins",
        "Check-ins logged",
        "occurred_at",
        "specialist",
        "Check-ins with accounts that took place in the period, by the specialist who held them.",
        Drill("check-ins"),
    ),
    Work(
        "acknowledged",
        "Escalations acknowledged",
        "acknowledged_at",
        "acknowledged_by",
        "Escalations acknowledged in the period, by who acknowledged them.",
        Drill("escalations").with_filters(counted_by="acknowledged"),
    ),
)
HOURS_DEFINITION = (
    "On shift: hours in the period that an active on-call rota had the person on call in any of its "
    "layers (overrides included, overlapping layers counted once); “—” for people no active rota knows."
)


def _counts(work: Work, ctx: ReportContext) -> list[dict]:
    """(person, week, n) for the work of both periods; the previous period's rows in week −1."""
    if work.key in _ROLLED:
        return _ROLLED[work.key](ctx)
    start, end = ctx.span
    items = work.items().filter(**{f"{work.at}__gte": start, f"{work.at}__lt": end})
    if ctx.specialist is not None:
        items = items.filter(**{work.person: ctx.specialist})
    # Figures only: the period whole, and no one's share (fewer, cheaper groups to count).
    person = Value(None, output_field=IntegerField()) if ctx.figures_only else F(work.person)
    week = ObjectCase(
        When(**{f"{work.at}__lt": ctx.period.start}, then=Value(-1)),
        default=Value(0) if ctx.figures_only else week_number(work.at, ctx.period, ctx.period.start.tzinfo),
    )
    return list(
        items.annotate(person=person, week=week)
        .values("person", "week")
        .annotate(n=Count("*"))  # not the pk: the index of `at` and the person alone answers
        .order_by()
    )


def _closed(ctx: ReportContext) -> list[dict]:
    rows = conversation_counts(count_spans(ctx), CLOSED, specialist=ctx.specialist, by=("assignee",))
    return [{"person": row["assignee"], "week": row["span"], "n": row["n"]} for row in rows]


def _answered(ctx: ReportContext) -> list[dict]:
    """First-response clocks of conversations achieved (timed), from the clocks' rollups."""
    return [
        {"person": row["assignee"], "week": row["span"], "n": row["timed"]}
        for row in clock_counts_by_span(
            count_spans(ctx),
            specialist=ctx.specialist,
            metric=SlaClock.Metric.FIRST_RESPONSE,
            kind="conversation",
            by=("assignee",),
        )
        if row["timed"]
    ]


def _decided(ctx: ReportContext) -> list[dict]:
    only = {} if ctx.specialist is None else {"decided_by": ctx.specialist.pk}
    rows = CASES.counts(count_spans(ctx), DECIDED, by=("decided_by",), **only)
    return [{"person": row["decided_by"], "week": row["span"], "n": row["n"]} for row in rows]


def _check_ins(ctx: ReportContext) -> list[dict]:
    only = {} if ctx.specialist is None else {"specialist": ctx.specialist.pk}
    rows = CHECK_INS.counts(count_spans(ctx), HELD, by=("specialist",), **only)
    return [{"person": row["specialist"], "week": row["span"], "n": row["n"]} for row in rows]


# Counted from the daily rollups (and the hours around whole days) rather than the rows.
_ROLLED = {"closed": _closed, "answered": _answered, "decided": _decided, "check_ins": _check_ins}


def on_shift_hours(period) -> dict[int, float]:
    """{user id: hours on call over the period} for everyone an active rota knows."""
    specs = rota_specs(Rota.objects.filter(is_active=True), since=period.start, until=period.end)
    pieces = defaultdict(list)
    known = set()
    for spec in specs.values():
        known |= spec.user_ids
        for position in spec.layers:
            for shift in shifts(spec, position, period.start, period.end):
                if shift.user_id is not None:
                    pieces[shift.user_id].append((shift.starts_at, shift.ends_at))
    hours = dict.fromkeys(known, 0.0)
    for user_id, spans in pieces.items():
        reach = None
        for starts, ends in sorted(spans):
            starts = max(starts, reach) if reach else starts
            if ends > starts:
                hours[user_id] += (ends - starts).total_seconds() / 3600
                reach = ends
    return hours


def _specialists(ctx: ReportContext) -> dict[int, str]:
    people = get_user_model().objects.filter(groups__name=Role.SPECIALIST, is_active=True)
    if ctx.specialist is not None:
        people = get_user_model().objects.filter(pk=ctx.specialist.pk)
    people = people.order_by("first_name", "last_name", "username").only(
        "first_name", "last_name", "username"
    )
    return {person.pk: person.get_full_name() or person.username for person in people}


def build(ctx: ReportContext) -> Section:
    rollups_refresh()
    counts = {work.key: _counts(work, ctx) for work in WORK}
    weeks = weeks_of(ctx.period)
    section = Section(key="productivity", title="Productivity")
    for work in WORK:
        now = sum(row["n"] for row in counts[work.key] if row["week"] >= 0)
        before = sum(row["n"] for row in counts[work.key] if row["week"] < 0)
        section.figures.append(
            Figure(work.key, work.label, "count", now, before, work.definition, "up", now, "", work.drill)
        )
    if ctx.figures_only:
        return section
    section.breakdowns = [_people(counts, ctx)]
    section.charts = [
        ChartData(
            key="productivity-trend",
            title="Work finished per week",
            description=f"What the {'team' if ctx.specialist is None else 'person'} finished in each of the "
            f"{len(weeks)} weeks of the period (weeks from Monday, in the viewer's time zone).",
            kind="trend",
            x=weeks,
            series={
                work.label: [
                    sum(row["n"] for row in counts[work.key] if row["week"] == i) for i in range(len(weeks))
                ]
                for work in WORK
            },
        )
    ]
    return section


def _people(counts, ctx: ReportContext) -> Breakdown:
    names = _specialists(ctx)
    hours = on_shift_hours(ctx.period)
    totals = defaultdict(lambda: defaultdict(int))
    for key, rows in counts.items():
        for row in rows:
            if row["week"] >= 0:
                totals[row["person"] if row["person"] in names else None][key] += row["n"]
    rows = []
    for person, name in names.items():
        cells = [
            Cell(totals[person][work.key], "count", work.drill.with_filters(person=person)) for work in WORK
        ]
        rows.append((name, [*cells, Cell(hours.get(person), "hours")]))
    if None in totals:
        rows.append(
            (OTHERS, [*(Cell(totals[None][work.key], "count") for work in WORK), Cell(None, "hours")])
        )
    return Breakdown(
        key="productivity-people",
        title="Work finished per specialist",
        dimension="Specialist",
        columns=[*(work.label for work in WORK), "Hours on shift"],
        rows=rows,
        definition=" ".join([*(work.definition for work in WORK), HOURS_DEFINITION]),
    )


FAMILY = Family(key="productivity", title="Productivity", roles=ALL_ROLES, build=build, order=50)
