"""The feedback loop: what users tell us is logged, triaged, shipped, and the users are told.

Product reads this family too, so nothing here shows an e-mail, a wallet or a case file:
items by title, follow-ups by the account's display name only."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import partial

from django.urls import reverse

from feedback.models import FeedbackItem, FollowUp, ProductArea
from feedback.waits import WAIT_BANDS
from portal.columns import Column
from portal.roles import Role
from reports.metrics.base import Breakdown, Cell, Drill, Family, Figure, ReportContext, Section, in_period
from reports.rollups import FOLLOW_UPS, ITEMS, banded_percentiles_of, rollups_refresh
from reports.rollups.feedback import (
    LOGGED,
    SHIPPED,
    TOLD,
    TRIAGED,
    WAITS,
    follow_ups_with_waits,
    items_with_waits,
)
from reports.rows import RowList, RowQuery, one_of, positive_id, register_rows

LOGGED_DEFINITION = "Items logged = feedback items created in the period."
TRIAGED_DEFINITION = (
    "Items triaged = items whose status first left New in the period (Product set it to triaged, "
    "planned, in progress, shipped or declined), by the time of that first change."
)
SHIPPED_DEFINITION = "Items shipped = items whose status first became Shipped in the period."
TOLD_DEFINITION = (
    "Users told = follow-ups done in the period: an account's owner told the user that the item they "
    "raised shipped or was declined (one per account and item)."
)
WAIT_DEFINITIONS = {
    "logged_triaged": "Logged → triaged = median time from an item being logged to its first triage, "
    "over the items triaged in the period.",
    "triaged_shipped": "Triaged → shipped = median time from an item's first triage to its shipping, "
    "over the items shipped in the period (an item shipped straight from New waits 0).",
    "shipped_told": "Shipped → told = median time from an item being shipped (or declined) to the user "
    "being told, over the follow-ups done in the period.",
}
ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.PRODUCT, Role.SPECIALIST)
STAGES = (LOGGED, TRIAGED, SHIPPED)
WAIT_STAGES = {"logged_triaged": TRIAGED, "triaged_shipped": SHIPPED, "shipped_told": TOLD}
NOW, BEFORE = 1, 0  # the rollups' span keys: this period, the one before


@dataclass
class Counted:
    """A period's counts, summed once: per (stage, span); per (dimension, value, stage) this
    period; and per wait band of each (stage, span)."""

    totals: Counter = field(default_factory=Counter)
    by: Counter = field(default_factory=Counter)
    bands: defaultdict = field(default_factory=lambda: defaultdict(Counter))


def _groups(ctx: ReportContext) -> Counted:
    """Items logged, first triaged and first shipped, and users told, in both periods, from the
    daily rollups (rollups.feedback) and the rows of the hours at the periods' edges: two queries
    a stage at most, whatever the number of items. Every figure and breakdown is a sum of these;
    the wait medians find their band in them."""
    rollups_refresh()
    spans = {NOW: (ctx.period.start, ctx.period.end), BEFORE: (ctx.previous.start, ctx.previous.end)}
    counted = Counted()
    for stage in (*STAGES, TOLD):
        rollup = FOLLOW_UPS if stage == TOLD else ITEMS
        by = ("category", "area") if stage == LOGGED else ("category", "area", "band")
        for row in rollup.counts(spans, stage, by=by):
            span, n = row["span"], row["n"]
            counted.totals[stage, span] += n
            if span == NOW:
                counted.by["category", row["category"], stage] += n
                counted.by["area", row["area"], stage] += n
            if stage != LOGGED:
                counted.bands[stage, span][row["band"]] += n
    return counted


def _waits(ctx: ReportContext, counted: Counted) -> dict[str, dict[int, tuple]]:
    """The median of each wait, this period (1) and the previous (0): each found in the band the
    counts put it in, then read from that band's rows in the period (one query on PostgreSQL)."""
    subsets = {}
    for key, stage in WAIT_STAGES.items():
        rows_of, instant = (
            (follow_ups_with_waits, "done_at") if stage == TOLD else (items_with_waits, f"{stage}_at")
        )
        for span, period in ((NOW, ctx.period), (BEFORE, ctx.previous)):
            in_period_rows = partial(_rows_in, rows_of, instant, period)
            wait, *_ends, band = WAITS[stage]
            subsets[(key, span)] = (dict(counted.bands[stage, span]), in_period_rows, wait, band)
    found = banded_percentiles_of(subsets, (0.5,), WAIT_BANDS)
    return {
        key: {span: (found[(key, span)].values[0], found[(key, span)].count) for span in (NOW, BEFORE)}
        for key in WAIT_STAGES
    }


def _rows_in(rows_of, field: str, period):
    return rows_of().filter(in_period(field, period))


def build(ctx: ReportContext) -> Section:
    counted = _groups(ctx)
    figures = _counts(counted) + _wait_figures(ctx, counted)
    section = Section(key="feedback", title="Feedback loop", figures=figures)
    if not ctx.figures_only:
        section.breakdowns = _breakdowns(counted)
    return section


def _counts(counted: Counted) -> list[Figure]:
    labels = {
        "logged": ("Items logged", LOGGED_DEFINITION, None),
        "triaged": ("Items triaged", TRIAGED_DEFINITION, "up"),
        "shipped": ("Items shipped", SHIPPED_DEFINITION, "up"),
        "told": ("Users told", TOLD_DEFINITION, "up"),
    }
    return [
        Figure(
            key=key,
            label=label,
            unit="count",
            value=counted.totals[key, NOW],
            previous=counted.totals[key, BEFORE],
            definition=definition,
            better=better,
            drill=_drill(key),
        )
        for key, (label, definition, better) in labels.items()
    ]


def _drill(stage: str, **filters) -> Drill:
    if stage == "told":
        return Drill("feedback-follow-ups").with_filters(**filters)
    return Drill("feedback-items").with_filters(stage=stage, **filters)


def _wait_figures(ctx, counted: Counted) -> list[Figure]:
    figures = []
    labels = {"logged_triaged": "Logged → triaged", "triaged_shipped": "Triaged → shipped"}
    labels["shipped_told"] = "Shipped → user told"
    drills = {"logged_triaged": "triaged", "triaged_shipped": "shipped", "shipped_told": "told"}
    for key, waits in _waits(ctx, counted).items():
        now, before = waits[NOW], waits[BEFORE]
        figures.append(
            Figure(
                key=f"wait_{key}",
                label=f"{labels[key]}, median",
                unit="seconds",
                value=now[0],
                previous=before[0],
                definition=WAIT_DEFINITIONS[key],
                better="down",
                sample=now[1],
                sample_label="items" if key != "shipped_told" else "users told",
                drill=_drill(drills[key]),
            )
        )
    return figures


def _breakdowns(counted: Counted) -> list[Breakdown]:
    areas = dict(ProductArea.objects.values_list("pk", "name"))
    dimensions = [
        ("category", "Category", dict(FeedbackItem.Category.choices), list(FeedbackItem.Category.values)),
        ("area", "Product area", areas, [*sorted(areas, key=lambda pk: areas[pk].lower()), None]),
    ]
    breakdowns = []
    for name, heading, names, order in dimensions:
        table = []
        for value in order:
            counts = [counted.by[name, value, stage] for stage in (*STAGES, TOLD)]
            if not any(counts):
                continue
            where = {name: "none" if value is None else value}
            cells = [
                Cell(count, "count", _drill(stage, **where))
                for stage, count in zip((*STAGES, TOLD), counts, strict=True)
            ]
            table.append((names.get(value, "No area"), cells))
        breakdowns.append(
            Breakdown(
                key=f"feedback-{name}",
                title=f"Feedback loop by {heading.lower()}",
                dimension=heading,
                columns=["Logged", "Triaged", "Shipped", "Users told"],
                rows=table,
                definition=f"{LOGGED_DEFINITION} {TRIAGED_DEFINITION} {SHIPPED_DEFINITION} {TOLD_DEFINITION}",
            )
        )
    return breakdowns


FAMILY = Family(key="feedback", title="Feedback loop", roles=ROLES, build=build, order=80, per_person=False)


# The rows behind the figures: items by title, follow-ups by the account's display name.


def _area(raw: str):
    return None if raw == "none" else positive_id("Area")(raw)


FILTERS = {"category": one_of("Category", FeedbackItem.Category.values), "area": _area}


def _filtered(queryset, filters: dict, prefix: str = ""):
    if "category" in filters:
        queryset = queryset.filter(**{f"{prefix}category": filters["category"]})
    if "area" in filters:
        queryset = queryset.filter(**{f"{prefix}area_id": filters["area"]})
    return queryset


def feedback_items(query: RowQuery):
    """The items logged, first triaged or first shipped in the period, newest first, with when
    they were first triaged and shipped."""
    stage = query.filters.get("stage", "logged")
    field = {"logged": "created_at", "triaged": "triaged_at", "shipped": "shipped_at"}[stage]
    items = _filtered(FeedbackItem.objects.filter(in_period(field, query.period)), query.filters)
    return items.select_related("area").order_by(f"-{field}", "-pk")


def follow_ups_done(query: RowQuery):
    follow_ups = FollowUp.objects.filter(in_period("done_at", query.period))
    return _filtered(follow_ups, query.filters, prefix="item__").order_by("-done_at", "-pk")


register_rows(
    RowList(
        key="feedback-items",
        title="Feedback items",
        definition=f"{LOGGED_DEFINITION} {TRIAGED_DEFINITION} {SHIPPED_DEFINITION}",
        columns=(
            Column("title", "Item", "title"),
            Column("category", "Category", "category"),
            Column("area", "Area", "area__name"),
            Column("status", "Status now", "status"),
            Column("impact", "Impact", "impact_score", numeric=True),
            Column("logged", "Logged", "created_at"),
            Column("triaged", "Triaged", "triaged_at"),
            Column("shipped", "Shipped", "shipped_at"),
        ),
        rows=feedback_items,
        roles=ROLES,
        filters={"stage": one_of("Stage", STAGES), **FILTERS},
        item_url=lambda item: reverse("feedback:detail", args=[item.pk]),
    )
)
register_rows(
    RowList(
        key="feedback-follow-ups",
        title="Users told",
        definition=TOLD_DEFINITION,
        columns=(
            Column("item", "Item", "item__title"),
            Column("account", "Account", "account__display_name"),
            Column("outcome", "Told it was", "outcome"),
            Column("closed", "Shipped or declined", "created_at"),
            Column("told", "Told", "done_at"),
        ),
        rows=follow_ups_done,
        roles=ROLES,
        filters=FILTERS,
        item_url=lambda follow_up: reverse("feedback:detail", args=[follow_up.item_id]),
    )
)
