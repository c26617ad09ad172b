"""Escalations: how many were raised, how fast someone on call acknowledged them, how many came
at night or at the weekend, and the pages that went out."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, IntegerField, Q, Value, When

from oncall.models import MAX_ACK_MINUTES, Escalation, EscalationPolicy, Page
from portal.roles import Role
from reports.aggregates import ObjectCase, Percentiles, percentiles, seconds_between
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
    ratio,
    weeks_of,
)
from reports.metrics.dimensions import UNASSIGNED, people_names, sorted_by_name
from reports.metrics.local_time import hour_of_week, week_number

TARGET = MAX_ACK_MINUTES * 60
DAY, WEEK = 86400, 7 * 86400
NIGHT_HOURS = tuple(h for h in range(168) if h >= 5 * 24 or not 8 <= h % 24 < 20)  # from Monday 00:00
# Bands of time to acknowledge, (low, high] in seconds: "within 30 minutes" includes 30:00.
BUCKETS = (
    ("≤ 5 min", None, 300),
    ("5–15 min", 300, 900),
    ("15–30 min", 900, TARGET),
    ("30–60 min", TARGET, 3600),
)
NOT_TIMED = Percentiles(0, (None, None))
ALL_ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)
RAISED_DEFINITION = (
    "Escalations raised in the period, by when they were raised. In a Specialist's own view: the "
    "escalations they acknowledged."
)
ACK_DEFINITION = (
    "Time to acknowledge: from an escalation being raised to someone on call acknowledging it, for "
    f"the escalations raised in the period that were acknowledged; the target is {MAX_ACK_MINUTES} "
    "minutes. Median: half were acknowledged faster; p90: nine in ten were."
)
WITHIN_DEFINITION = (
    f"Acknowledged within {MAX_ACK_MINUTES} minutes ÷ escalations raised in the period; one never "
    "acknowledged counts as not within."
)
PAGES_DEFINITION = (
    "Pages delivered in the period (e-mail, chat or Intercom note), by when they were sent; a page "
    "still failing or given up is not counted. In a Specialist's own view: the pages sent to them."
)


def night_zones() -> dict[str, list[int]]:
    """{time zone: escalation policy ids}: an escalation's night is its policy's rota's night."""
    zones: dict[str, list[int]] = {}
    for pk, zone in EscalationPolicy.objects.order_by("pk").values_list("pk", "rota__time_zone"):
        zones.setdefault(zone, []).append(pk)
    return zones or {settings.TIME_ZONE: []}


def night_hour(zones: dict, start: dt.datetime, end: dt.datetime):
    """The hour of the local week an escalation raised in [start, end) was raised in, in its
    policy's rota's zone: compare with NIGHT_HOURS."""
    hours = {zone: hour_of_week("raised_at", ZoneInfo(zone), start, end) for zone in zones}
    if len(hours) == 1:
        return next(iter(hours.values()))
    *others, last = sorted(zones)
    return ObjectCase(
        *(When(policy_id__in=zones[zone], then=hours[zone]) for zone in others),
        default=hours[last],
        output_field=IntegerField(),
    )


def night_definition(zones) -> str:
    return (
        "Night or weekend share = escalations raised before 08:00 or from 20:00, or on a Saturday or "
        "Sunday, ÷ escalations raised in the period; the clock is the time zone of the on-call rota the "
        f"escalation's policy pages ({', '.join(sorted(zones))})."
    )


def _mine(escalations, specialist):
    return escalations if specialist is None else escalations.filter(acknowledged_by=specialist)


def _ack_seconds():
    return seconds_between("raised_at", "acknowledged_at")


def _current(field: str, ctx: ReportContext):
    return ObjectCase(When(**{f"{field}__gte": ctx.period.start}, then=Value(1)), default=Value(0))


def _groups(escalations, ctx: ReportContext, zones) -> list[dict]:
    """Escalations of both periods counted per (period, severity, source, acknowledger), with how
    many were acknowledged within the target, at night, and in each band of time: every count of
    the section is a sum of these few rows."""
    start, end = ctx.span
    bands = {
        f"band_{i}": Count("pk", filter=Q(ack__lte=high) & (Q(ack__gt=low) if low is not None else Q()))
        for i, (_l, low, high) in enumerate(BUCKETS)
    }
    return list(
        escalations.filter(raised_at__gte=start, raised_at__lt=end)
        .alias(ack=_ack_seconds(), night_hour=night_hour(zones, start, end))
        .annotate(current=_current("raised_at", ctx))
        .values("current", "severity", "source", "acknowledged_by_id")
        .annotate(
            n=Count("pk"),
            acked=Count("acknowledged_at"),
            within=Count("pk", filter=Q(ack__lte=TARGET)),
            night=Count("pk", filter=Q(night_hour__in=NIGHT_HOURS)),
            **bands,
        )
        .order_by()
    )


def _sums(groups, key=None) -> dict:
    """{(current, key value): {n, acked, within, night, band_i}}."""
    sums: dict = {}
    for row in groups:
        totals = sums.setdefault((row["current"], row[key] if key else None), {})
        for name, value in row.items():
            if name not in ("current", "severity", "source", "acknowledged_by_id"):
                totals[name] = totals.get(name, 0) + value
    return sums


def _ack_times(escalations, ctx: ReportContext, by: str | None = None) -> dict:
    """Median and p90 of the time to acknowledge: {(current, key): Percentiles}, in one query."""
    acked = escalations.filter(
        raised_at__gte=ctx.span[0], raised_at__lt=ctx.span[1], acknowledged_at__isnull=False
    )
    if by is None:
        found = percentiles(
            acked.annotate(current=_current("raised_at", ctx)), _ack_seconds(), group_by="current"
        )
        return {(current, None): value for (current,), value in found.items()}
    found = percentiles(acked.filter(raised_at__gte=ctx.period.start), _ack_seconds(), (0.5,), group_by=by)
    return {(1, key): value for (key,), value in found.items()}


def _pages(ctx: ReportContext) -> list[dict]:
    """Pages sent in both periods, per (period, recipient)."""
    pages = Page.objects.filter(status=Page.Status.SENT, sent_at__gte=ctx.span[0], sent_at__lt=ctx.span[1])
    if ctx.specialist is not None:
        pages = pages.filter(recipient=ctx.specialist)
    return list(
        pages.annotate(current=_current("sent_at", ctx))
        .values("current", "recipient_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def build(ctx: ReportContext) -> Section:
    zones = night_zones()
    escalations = _mine(Escalation.objects.all(), ctx.specialist)
    groups = _groups(escalations, ctx, zones)
    pages = _pages(ctx)
    totals = _sums(groups)
    section = Section(key="escalations", title="Escalations")
    section.figures = _figures(ctx, escalations, totals, pages, zones)
    if ctx.figures_only:
        return section
    section.breakdowns = [
        _by(groups, escalations, ctx, "severity", "Severity", dict(Escalation.Severity.choices)),
        _by(groups, escalations, ctx, "source", "Source", dict(Escalation.Source.choices)),
    ]
    if ctx.specialist is None:
        section.breakdowns.append(_people(groups, pages))
    section.charts = [_trend(escalations, ctx), _distribution(totals)]
    return section


def _figures(ctx, escalations, totals, pages, zones) -> list[Figure]:
    now, before = totals.get((1, None), {}), totals.get((0, None), {})
    sent = [sum(row["n"] for row in pages if row["current"] == current) for current in (0, 1)]
    times = _ack_times(escalations, ctx)
    ack_now, ack_before = (times.get((current, None), NOT_TIMED) for current in (1, 0))
    raised = Drill("escalations")

    def share(key, label, part, definition, better, drill):
        value, previous = ratio(now.get(part), now.get("n")), ratio(before.get(part), before.get("n"))
        return Figure(
            key, label, "percent", value, previous, definition, better, now.get("n", 0), "raised", drill
        )

    count = now.get("n", 0)
    return [
        Figure(
            "escalations_raised",
            "Escalations raised",
            "count",
            count,
            before.get("n", 0),
            RAISED_DEFINITION,
            None,
            count,
            "raised",
            raised,
        ),
        *(
            Figure(
                f"ack_{name}",
                f"Time to acknowledge, {name}",
                "seconds",
                ack_now.values[i],
                ack_before.values[i],
                ACK_DEFINITION,
                "down",
                ack_now.count,
                "acknowledged",
                raised.with_filters(acknowledged="yes"),
                target=TARGET,
            )
            for i, name in enumerate(("median", "p90"))
        ),
        share(
            "acked_within_target",
            f"Acknowledged within {MAX_ACK_MINUTES} minutes",
            "within",
            WITHIN_DEFINITION,
            "up",
            raised.with_filters(acked_within="yes"),
        ),
        share(
            "night_weekend_share",
            "Raised at night or at the weekend",
            "night",
            night_definition(zones),
            None,
            raised.with_filters(hours="night"),
        ),
        Figure(
            "pages_sent",
            "Pages sent",
            "count",
            sent[1],
            sent[0],
            PAGES_DEFINITION,
            None,
            sent[1],
            "sent",
            Drill("pages"),
        ),
    ]


def _by(groups, escalations, ctx, key: str, heading: str, names: dict) -> Breakdown:
    sums = _sums(groups, key)
    medians = _ack_times(escalations, ctx, by=key)
    rows = []
    for value, name in names.items():
        counts = sums.get((1, value), {})
        drill = Drill("escalations").with_filters(**{key: value})
        median = medians.get((1, value))
        rows.append(
            (
                name,
                [
                    Cell(counts.get("n", 0), "count", drill),
                    Cell(
                        ratio(counts.get("within"), counts.get("n")),
                        "percent",
                        drill.with_filters(acked_within="yes"),
                    ),
                    Cell(median.values[0] if median else None, "seconds"),
                ],
            )
        )
    return Breakdown(
        key=f"escalations-{key}",
        title=f"Escalations by {heading.lower()}",
        dimension=heading,
        columns=["Raised", f"Within {MAX_ACK_MINUTES} min", "Median to acknowledge"],
        rows=rows,
        definition=f"{RAISED_DEFINITION} {WITHIN_DEFINITION} {ACK_DEFINITION}",
    )


def _people(groups, pages) -> Breakdown:
    sent = {row["recipient_id"]: 0 for row in pages if row["current"]}
    for row in pages:
        if row["current"]:
            sent[row["recipient_id"]] += row["n"]
    acked = _sums([row for row in groups if row["acknowledged_by_id"] is not None], "acknowledged_by_id")
    acknowledgers = {key for current, key in acked if current}
    names = people_names(set(sent) | acknowledgers)
    rows = []
    for person in sorted_by_name(names, set(sent) | acknowledgers):
        who = "none" if person is None else person
        rows.append(
            (
                names.get(person, UNASSIGNED),
                [
                    Cell(sent.get(person, 0), "count", Drill("pages").with_filters(person=who)),
                    Cell(
                        acked.get((1, person), {}).get("n", 0),
                        "count",
                        Drill("escalations").with_filters(person=who),
                    ),
                ],
            )
        )
    return Breakdown(
        key="escalations-people",
        title="Pages per person",
        dimension="Person",
        columns=["Pages sent", "Escalations acknowledged"],
        rows=rows,
        definition=f"{PAGES_DEFINITION} Escalations acknowledged: of those raised in the period, the ones "
        "this person acknowledged.",
    )


def _trend(escalations, ctx: ReportContext) -> ChartData:
    weeks = weeks_of(ctx.period)
    rows = (
        escalations.filter(in_period("raised_at", ctx.period))
        .alias(ack=_ack_seconds())
        .annotate(week=week_number("raised_at", ctx.period, ctx.period.start.tzinfo))
        .values("week")
        .annotate(n=Count("pk"), within=Count("pk", filter=Q(ack__lte=TARGET)))
        .order_by()
    )
    by_week = {row["week"]: row for row in rows}
    return ChartData(
        key="escalations-trend",
        title="Escalations per week",
        description=f"Escalations raised in each of the {len(weeks)} weeks of the period, and the share "
        f"acknowledged within {MAX_ACK_MINUTES} minutes.",
        kind="trend",
        x=weeks,
        series={
            "Raised": [by_week.get(i, {}).get("n", 0) for i in range(len(weeks))],
            f"% within {MAX_ACK_MINUTES} min": [
                ratio(by_week[i]["within"], by_week[i]["n"]) if i in by_week else None
                for i in range(len(weeks))
            ],
        },
    )


def _distribution(totals) -> ChartData:
    labels = [label for label, _low, _high in BUCKETS] + ["> 60 min", "Never"]

    def series(current):
        counts = totals.get((current, None), {})
        bands = [counts.get(f"band_{i}", 0) for i in range(len(BUCKETS))]
        acked, n = counts.get("acked", 0), counts.get("n", 0)
        return [*bands, acked - sum(bands), n - acked]

    return ChartData(
        key="escalations-ack-bands",
        title="Time to acknowledge",
        description="How many escalations raised in the period were acknowledged within each band of "
        "time, or never, this period and the one before.",
        kind="distribution",
        x=labels,
        series={"This period": series(1), "Previous period": series(0)},
    )


FAMILY = Family(key="escalations", title="Escalations", roles=ALL_ROLES, build=build, order=40)
