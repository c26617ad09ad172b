"""CSAT: how satisfied users say they are, from Intercom's conversation ratings (1–5)."""

from accounts.models import Venue
from portal.columns import Column
from portal.roles import Role
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
    week_spans,
    weeks_of,
)
from reports.metrics.dimensions import UNASSIGNED, people_names, person_name, sorted_by_name, tier_names
from reports.rollups import CLOSED, RATED, conversation_counts, rollups_refresh
from reports.rows import BadFilter, RowList, RowQuery, one_of, positive_id, register_rows
from support.models import Conversation

CSAT_DEFINITION = (
    "CSAT % = conversations rated 4 or 5 ÷ conversations rated, counting each rating in the period "
    "it was given (Intercom's 1–5 scale). The count is how many conversations were rated: a small "
    "sample moves a lot."
)
RESPONSE_RATE_DEFINITION = (
    "Response rate = conversations rated in the period ÷ conversations closed in the period: how "
    "many users answer the rating question."
)
GOOD = 4  # ratings at or above count as satisfied
ALL_ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)


def _mine(queryset, specialist):
    return queryset if specialist is None else queryset.filter(assignee=specialist)


def build(ctx: ReportContext) -> Section:
    rollups_refresh()
    groups = _rating_groups(ctx)
    section = Section(key="csat", title="Customer satisfaction", figures=_figures(groups, _closed(ctx)))
    if ctx.figures_only:
        return section
    section.breakdowns = _breakdowns(groups, ctx)
    section.charts = [_trend(ctx), _distribution(groups)]
    return section


def headline(ctx: ReportContext) -> list[Figure]:
    """CSAT and the response rate, this period against the previous."""
    rollups_refresh()
    return _figures(_rating_groups(ctx), _closed(ctx))


def _closed(ctx) -> dict:
    """Conversations closed in each period, from the daily rollups and the hours around them."""
    spans = {1: (ctx.period.start, ctx.period.end), 0: (ctx.previous.start, ctx.previous.end)}
    closed = {"now": 0, "before": 0}
    for row in conversation_counts(spans, CLOSED, specialist=ctx.specialist, by=()):
        closed["now" if row["span"] else "before"] += row["n"]
    return closed


def _figures(groups, closed: dict) -> list[Figure]:
    counts = _sums(groups, None).get(None, [0, 0, 0, 0])
    rated, good = counts[0::2], counts[1::2]  # (this period, the previous)
    return [
        Figure(
            key="csat",
            label="CSAT",
            unit="percent",
            value=ratio(good[0], rated[0]),
            previous=ratio(good[1], rated[1]),
            definition=CSAT_DEFINITION,
            better="up",
            sample=rated[0],
            sample_label="rated",
            drill=Drill("rated-conversations"),
        ),
        Figure(
            key="response_rate",
            label="Rating response rate",
            unit="percent",
            value=ratio(rated[0], closed["now"]),
            previous=ratio(rated[1], closed["before"]),
            definition=RESPONSE_RATE_DEFINITION,
            better="up",
            sample=closed["now"],
            sample_label="closed",
            drill=Drill("closed-conversations"),
        ),
    ]


def _rating_groups(ctx) -> list[dict]:
    """Rated conversations of both periods counted per (period, assignee, tier, venue, rating),
    from the daily rollups and the hours around them: every figure and breakdown sums these."""
    periods = {0: (ctx.previous.start, ctx.previous.end), 1: (ctx.period.start, ctx.period.end)}
    return [
        {
            "current": row["span"],
            "assignee_id": row["assignee"],
            "account__tier_id": row["tier"],
            "account__venue": row["venue"],
            "rating": row["rating"],
            "n": row["n"],
        }
        for row in conversation_counts(periods, RATED, specialist=ctx.specialist)
    ]


def _sums(groups, dimension: str | None) -> dict:
    """{key: [rated, good, rated before, good before]} per value of one dimension (None: all)."""
    sums: dict = {}
    for row in groups:
        counts = sums.setdefault(row[dimension] if dimension else None, [0, 0, 0, 0])
        offset = 0 if row["current"] else 2
        counts[offset] += row["n"]
        if row["rating"] >= GOOD:
            counts[offset + 1] += row["n"]
    return sums


def _breakdowns(groups, ctx) -> list[Breakdown]:
    tiers = tier_names()
    dimensions = [
        ("tier", "By tier", "Tier", "account__tier_id", tiers, list(tiers)),
        ("venue", "By venue", "Venue", "account__venue", dict(Venue.choices), list(dict(Venue.choices))),
    ]
    if ctx.specialist is None:
        assignees = {row["assignee_id"] for row in groups}
        people = people_names(assignees)
        people_keys = sorted_by_name(people, assignees)
        dimensions.append(("specialist", "By specialist", "Specialist", "assignee_id", people, people_keys))
    breakdowns = []
    for key, title, heading, dimension, names, order in dimensions:
        sums = _sums(groups, dimension)
        rows = []
        for value in order:
            if value not in sums:
                continue
            rated, good, rated_before, good_before = sums[value]
            drill = Drill("rated-conversations").with_filters(
                **{_FILTER[key]: "none" if value is None else value}
            )
            rows.append(
                (
                    names.get(value, UNASSIGNED),
                    [
                        Cell(rated, "count", drill),
                        Cell(ratio(good, rated), "percent", drill),
                        Cell(ratio(good_before, rated_before), "percent"),
                    ],
                )
            )
        breakdowns.append(
            Breakdown(
                key=f"csat-{key}",
                title=f"CSAT {title.lower()}",
                dimension=heading,
                columns=["Rated", "CSAT", "CSAT before"],
                rows=rows,
                definition=CSAT_DEFINITION,
            )
        )
    return breakdowns


_FILTER = {"tier": "tier", "venue": "venue", "specialist": "person"}


def _trend(ctx) -> ChartData:
    weeks = weeks_of(ctx.period)
    rated, good = [0] * len(weeks), [0] * len(weeks)
    in_weeks = {i: span for i, span in week_spans(ctx).items() if i >= 0}
    for row in conversation_counts(in_weeks, RATED, specialist=ctx.specialist, by=("rating",)):
        rated[row["span"]] += row["n"]
        good[row["span"]] += row["n"] if row["rating"] >= GOOD else 0
    return ChartData(
        key="csat-trend",
        title="CSAT per week",
        description=f"CSAT % for each of the {len(weeks)} weeks of the period, by the week the rating was given.",
        kind="trend",
        x=weeks,
        series={"CSAT %": [ratio(good[i], rated[i]) if rated[i] else None for i in range(len(weeks))]},
        unit="percent",
    )


def _distribution(groups) -> ChartData:
    counts = {(row["current"], row["rating"]): 0 for row in groups}
    for row in groups:
        counts[(row["current"], row["rating"])] += row["n"]
    stars = [1, 2, 3, 4, 5]
    return ChartData(
        key="csat-ratings",
        title="Ratings given",
        description="How many conversations got each rating from 1 to 5, this period and the one before.",
        kind="distribution",
        x=[f"{n} ★" for n in stars],
        series={
            "This period": [counts.get((1, n), 0) for n in stars],
            "Previous period": [counts.get((0, n), 0) for n in stars],
        },
    )


FAMILY = Family(key="csat", title="Customer satisfaction", roles=ALL_ROLES, build=build, order=10)


# The rows behind the figures.


def _person(raw: str):
    return None if raw == "none" else positive_id("Person")(raw)


def _rating(raw: str):
    if raw in ("good", "poor"):
        return raw
    if raw in {"1", "2", "3", "4", "5"}:
        return int(raw)
    raise BadFilter(f"Rating is good, poor or 1–5; “{raw[:40]}” is not.")


CONVERSATION_COLUMNS = (
    Column("conversation", "Conversation", "intercom_id"),
    Column("title", "Title", "title"),
    Column("account", "Account", "account__display_name"),
    Column("tier", "Tier", "account__tier__name"),
    Column("specialist", "Specialist", "assignee_name"),
    Column("created", "Created", "created_at_intercom"),
    Column("closed", "Closed", "closed_at"),
    Column("rating", "Rating", "rating", numeric=True),
    Column("rated", "Rated", "rated_at"),
    Column("remark", "Remark", "rating_remark", table=False),
)


def conversation_filters(queryset, filters: dict):
    if "tier" in filters:
        queryset = queryset.filter(account__tier_id=filters["tier"])
    if "venue" in filters:
        queryset = queryset.filter(account__venue=filters["venue"])
    if "person" in filters:
        queryset = queryset.filter(assignee_id=filters["person"])
    return queryset


def rated_conversations(query: RowQuery):
    rows = _mine(Conversation.objects.all(), query.specialist).filter(
        in_period("rated_at", query.period), rating__isnull=False
    )
    rows = conversation_filters(rows, query.filters)
    rating = query.filters.get("rating")
    if rating == "good":
        rows = rows.filter(rating__gte=GOOD)
    elif rating == "poor":
        rows = rows.filter(rating__lt=GOOD)
    elif rating is not None:
        rows = rows.filter(rating=rating)
    return rows.annotate(assignee_name=person_name("assignee")).order_by("-rated_at", "-pk")


CONVERSATION_FILTERS = {
    "tier": positive_id("Tier"),
    "venue": one_of("Venue", Venue.values),
    "person": _person,
}

register_rows(
    RowList(
        key="rated-conversations",
        title="Rated conversations",
        definition=CSAT_DEFINITION,
        columns=CONVERSATION_COLUMNS,
        rows=rated_conversations,
        roles=ALL_ROLES,
        filters={**CONVERSATION_FILTERS, "rating": _rating},
    )
)
