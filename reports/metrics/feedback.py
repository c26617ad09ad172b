"""The feedback loop: what users tell us is logged, triaged, shipped, and the users are told.

Product reads this family too, so nothing here shows an e-mail, a wallet or a case file:
items by title, follow-ups by the account's display name only."""

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.urls import reverse

from feedback.models import FeedbackEvent, FeedbackItem, FollowUp, ProductArea
from portal.columns import Column
from portal.roles import Role
from reports.aggregates import ObjectCase, percentiles, seconds_between
from reports.metrics.base import Breakdown, Cell, Drill, Family, Figure, ReportContext, Section, in_period
from reports.rows import RowList, RowQuery, one_of, positive_id, register_rows

Status = FeedbackItem.Status
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
STAGES = ("logged", "triaged", "shipped")


def _first_status_change(**condition):
    """The instant of an item's first status change that meets `condition` (on the event's
    before/after JSON), as a subquery over the item's history."""
    first = (
        FeedbackEvent.objects.filter(item=OuterRef("pk"), kind="status", **condition)
        .order_by("at", "pk")
        .values("at")[:1]
    )
    return Subquery(first)


def items_with_stages():
    """Feedback items with `triaged_at` (first status change away from New) and `shipped_at`
    (first change to Shipped), read from their history."""
    return FeedbackItem.objects.alias(
        triaged_at=_first_status_change(before__status=Status.NEW),
        shipped_at=_first_status_change(after__status=Status.SHIPPED),
    )


def _current(field: str, ctx: ReportContext):
    return ObjectCase(
        When(**{f"{field}__gte": ctx.period.start}, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _groups(ctx: ReportContext) -> list[dict]:
    """Items and follow-ups of both periods counted per (category, area): two queries; every
    figure and breakdown sums these rows."""
    counts = {}
    for when, period in (("now", ctx.period), ("before", ctx.previous)):
        counts[f"logged_{when}"] = Count("pk", filter=in_period("created_at", period))
        counts[f"triaged_{when}"] = Count("pk", filter=in_period("triaged_at", period))
        counts[f"shipped_{when}"] = Count("pk", filter=in_period("shipped_at", period))
    # An item logged after the span can have been neither triaged nor shipped in it.
    items = items_with_stages().filter(created_at__lt=ctx.period.end)
    rows = list(items.values("category", "area_id").annotate(**counts).order_by())
    start, end = ctx.span
    told = (
        FollowUp.objects.filter(done_at__gte=start, done_at__lt=end)
        .values("item__category", "item__area_id")
        .annotate(
            told_now=Count("pk", filter=in_period("done_at", ctx.period)),
            told_before=Count("pk", filter=in_period("done_at", ctx.previous)),
        )
        .order_by()
    )
    for row in told:
        rows.append({"category": row["item__category"], "area_id": row["item__area_id"], **row})
    return rows


def _sum(rows, key, **where) -> int:
    return sum(row.get(key, 0) for row in rows if all(row[k] == v for k, v in where.items()))


def _waits(ctx: ReportContext) -> dict[str, dict[int, tuple]]:
    """The median of each wait, this period (1) and the previous (0): three queries."""
    start, end = ctx.span
    items = items_with_stages()
    sources = {
        "logged_triaged": (
            items.filter(triaged_at__gte=start, triaged_at__lt=end),
            "triaged_at",
            seconds_between("created_at", "triaged_at"),
        ),
        "triaged_shipped": (
            items.filter(shipped_at__gte=start, shipped_at__lt=end),
            "shipped_at",
            seconds_between("triaged_at", "shipped_at"),
        ),
        "shipped_told": (
            FollowUp.objects.filter(done_at__gte=start, done_at__lt=end),
            "done_at",
            seconds_between("created_at", "done_at"),
        ),
    }
    waits = {}
    for key, (queryset, field, value) in sources.items():
        found = percentiles(
            queryset.annotate(current=_current(field, ctx)), value, (0.5,), group_by="current"
        )
        waits[key] = {group[0]: (figures.values[0], figures.count) for group, figures in found.items()}
    return waits


def build(ctx: ReportContext) -> Section:
    rows = _groups(ctx)
    section = Section(key="feedback", title="Feedback loop", figures=_counts(rows) + _wait_figures(ctx))
    section.breakdowns = _breakdowns(rows)
    return section


def _counts(rows) -> list[Figure]:
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
            value=_sum(rows, f"{key}_now"),
            previous=_sum(rows, f"{key}_before"),
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


def _wait_figures(ctx) -> list[Figure]:
    figures = []
    labels = {"logged_triaged": "Logged → triaged", "triaged_shipped": "Triaged → shipped"}
    labels["shipped_told"] = "Shipped → user told"
    drills = {"logged_triaged": "triaged", "triaged_shipped": "shipped", "shipped_told": "told"}
    for key, waits in _waits(ctx).items():
        now, before = waits.get(1, (None, 0)), waits.get(0, (None, 0))
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


def _breakdowns(rows) -> list[Breakdown]:
    areas = dict(ProductArea.objects.values_list("pk", "name"))
    dimensions = [
        ("category", "Category", dict(FeedbackItem.Category.choices), list(FeedbackItem.Category.values)),
        ("area", "Product area", areas, [*sorted(areas, key=lambda pk: areas[pk].lower()), None]),
    ]
    breakdowns = []
    for name, heading, names, order in dimensions:
        column = "area_id" if name == "area" else name
        table = []
        for value in order:
            counts = [_sum(rows, f"{stage}_now", **{column: value}) for stage in (*STAGES, "told")]
            if not any(counts):
                continue
            where = {name: "none" if value is None else value}
            cells = [
                Cell(count, "count", _drill(stage, **where))
                for stage, count in zip((*STAGES, "told"), counts, strict=True)
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
    stage = query.filters.get("stage", "logged")
    field = {"logged": "created_at", "triaged": "triaged_at", "shipped": "shipped_at"}[stage]
    items = items_with_stages().filter(in_period(field, query.period))
    return (
        _filtered(items, query.filters)
        .annotate(triaged=F("triaged_at"), shipped=F("shipped_at"))
        .select_related("area")
        .order_by(f"-{field}", "-pk")
    )


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
            Column("triaged", "Triaged", "triaged"),
            Column("shipped", "Shipped", "shipped"),
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
