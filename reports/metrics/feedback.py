"""The feedback loop: what users tell us is logged, triaged, shipped, and the users are told.

Product reads this family too, so nothing here shows an e-mail, a wallet or a case file:
items by title, follow-ups by the account's display name only."""

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
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


TRIAGE = {"before__status": Status.NEW}  # a status change away from New
SHIPPING = {"after__status": Status.SHIPPED}  # a status change to Shipped


def _first_status_change(item: str = "pk", **condition):
    """The instant of an item's first status change that meets `condition` (on the event's
    before/after JSON), as a subquery over the history of the item the outer row's `item`
    field names."""
    first = (
        FeedbackEvent.objects.filter(item=OuterRef(item), kind="status", **condition)
        .order_by("at", "pk")
        .values("at")[:1]
    )
    return Subquery(first)


def first_changes(condition: dict, start, end):
    """The status events meeting `condition` at `start` ≤ at < `end` that are their item's first
    such change, in the order `_first_status_change` reads (by `at`, then pk): no earlier one of
    the same item exists. Read from the period's status events (feedbackevent_status_at_idx),
    each checked against its own item's history (feedbackevent_item_idx), so the cost follows the
    changes in the period, not the items ever logged. An item has at most one first change."""
    earlier = FeedbackEvent.objects.filter(
        item=OuterRef("item_id"), kind="status", at__lte=OuterRef("at"), **condition
    ).filter(Q(at__lt=OuterRef("at")) | Q(pk__lt=OuterRef("pk")))
    return FeedbackEvent.objects.filter(kind="status", at__gte=start, at__lt=end, **condition).filter(
        ~Exists(earlier)
    )


def _current(field: str, ctx: ReportContext):
    return ObjectCase(
        When(**{f"{field}__gte": ctx.period.start}, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _counts_by_period(field: str, key: str, ctx: ReportContext) -> dict:
    return {
        f"{key}_{when}": Count("pk", filter=in_period(field, period))
        for when, period in (("now", ctx.period), ("before", ctx.previous))
    }


def _groups(ctx: ReportContext) -> list[dict]:
    """Items and follow-ups of both periods counted per (category, area): four queries, each
    over the span's rows only; every figure and breakdown sums these rows."""
    start, end = ctx.span
    logged = (
        FeedbackItem.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("category", "area_id")
        .annotate(**_counts_by_period("created_at", "logged", ctx))
        .order_by()
    )
    rows = list(logged)
    for key, condition in (("triaged", TRIAGE), ("shipped", SHIPPING)):
        # An item logged after the period can have been neither triaged nor shipped in it.
        firsts = first_changes(condition, start, end).filter(item__created_at__lt=ctx.period.end)
        found = (
            firsts.values("item__category", "item__area_id")
            .annotate(**_counts_by_period("at", key, ctx))
            .order_by()
        )
        rows += [{"category": row["item__category"], "area_id": row["item__area_id"], **row} for row in found]
    told = (
        FollowUp.objects.filter(done_at__gte=start, done_at__lt=end)
        .values("item__category", "item__area_id")
        .annotate(**_counts_by_period("done_at", "told", ctx))
        .order_by()
    )
    for row in told:
        rows.append({"category": row["item__category"], "area_id": row["item__area_id"], **row})
    return rows


def _sum(rows, key, **where) -> int:
    return sum(row.get(key, 0) for row in rows if all(row[k] == v for k, v in where.items()))


def _waits(ctx: ReportContext) -> dict[str, dict[int, tuple]]:
    """The median of each wait, this period (1) and the previous (0): three queries, over the
    first triages, first shippings and follow-ups done in the span."""
    start, end = ctx.span
    sources = {
        "logged_triaged": (
            first_changes(TRIAGE, start, end),
            "at",
            seconds_between("item__created_at", "at"),
        ),
        "triaged_shipped": (
            # The item's first triage is at or before its first shipping (an item shipped
            # straight from New was triaged by that same change, and waits 0).
            first_changes(SHIPPING, start, end).annotate(
                triaged_at=_first_status_change("item_id", **TRIAGE)
            ),
            "at",
            seconds_between("triaged_at", "at"),
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
    """The items logged, first triaged or first shipped in the period, newest first, with when
    they were first triaged and shipped. The triaged and shipped items are found from the
    period's first changes (`first_changes`), not by reading every item's history."""
    stage = query.filters.get("stage", "logged")
    items = _filtered(_stage_items(stage, query.period), query.filters).annotate(
        triaged=_first_status_change(**TRIAGE), shipped=_first_status_change(**SHIPPING)
    )
    field = {"logged": "created_at", "triaged": "triaged", "shipped": "shipped"}[stage]
    return items.select_related("area").order_by(f"-{field}", "-pk")


def _stage_items(stage: str, period):
    if stage == "logged":
        return FeedbackItem.objects.filter(in_period("created_at", period))
    condition = TRIAGE if stage == "triaged" else SHIPPING
    firsts = first_changes(condition, period.start, period.end)
    return FeedbackItem.objects.filter(pk__in=firsts.values("item_id"))


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
