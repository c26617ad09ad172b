"""Reads for the feedback log. Product sees accounts only as display name, tier and volume."""

from django.db.models import Count, Q, QuerySet, Window

from feedback.models import FeedbackItem, FeedbackSource
from portal.models import User
from portal.roles import Role
from portal.selectors import object_get_for_user

FEEDBACK_READERS = (Role.SPECIALIST, Role.PRODUCT, Role.LEADERSHIP, Role.ADMIN)
FEEDBACK_CAPTURERS = (Role.SPECIALIST, Role.ADMIN)
FEEDBACK_TRIAGERS = (Role.PRODUCT, Role.ADMIN)
BOARD_COLUMN_LIMIT = 25


def item_list(*, query: str = "") -> QuerySet[FeedbackItem]:
    items = FeedbackItem.objects.select_related("area")
    query = (query or "").strip()
    if not query:
        return items
    if query.lstrip("#").isdigit() and len(query) < 12:
        return items.filter(pk=int(query.lstrip("#")))
    return items.filter(Q(title__icontains=query) | Q(description__icontains=query))


def feedback_item_get_for_user(*, user: User, pk) -> FeedbackItem:
    return object_get_for_user(
        FeedbackItem.objects.select_related("area", "created_by", "duplicate_of", "dispute_case"),
        user=user,
        roles=FEEDBACK_READERS,
        denied="Your role does not include the feedback log.",
        missing="No such feedback item.",
        pk=pk,
    )


def item_sources(item: FeedbackItem, *, limit: int = 500) -> list[FeedbackSource]:
    """Linked accounts with just what every reader may see (no e-mail, no wallets)."""
    return list(
        item.sources.select_related("account__tier", "added_by")
        .only(
            "item_id",
            "account_id",
            "note",
            "said_at",
            "merged_from_id",
            "added_by__username",
            "account__display_name",
            "account__volume_30d_usd",
            "account__tier__name",
            "account__owner_id",
        )
        .order_by("-said_at", "pk")[:limit]
    )


def board_columns(queryset: QuerySet[FeedbackItem]) -> list[dict]:
    """Items grouped by status, biggest impact first, each column capped with its full count."""
    from django.db.models import Count

    counts = dict(queryset.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    columns = []
    for status, label in FeedbackItem.Status.choices:
        if status == FeedbackItem.Status.DUPLICATE:
            continue
        items = list(queryset.filter(status=status).order_by("-impact_score", "-pk")[:BOARD_COLUMN_LIMIT])
        columns.append({"status": status, "label": label, "items": items, "total": counts.get(status, 0)})
    return columns


def untriaged(*, limit: int = 10) -> tuple[int, list[FeedbackItem]]:
    """Items nobody has triaged yet (status new): how many there are, and the oldest `limit` of
    them, oldest first. One query (the count is a window over the same rows)."""
    items = list(
        FeedbackItem.objects.filter(status=FeedbackItem.Status.NEW)
        .annotate(waiting=Window(Count("pk")))
        .only("pk", "title", "category", "created_at", "impact_accounts")
        .order_by("created_at", "pk")[:limit]
    )
    return (items[0].waiting if items else 0), items
