"""The daily rollups of conversations (reports.models.ConversationDay): how many closed and how
many were rated (per rating) on each UTC day, per assignee and the tier and venue of the account,
and the reads that combine them with the conversations themselves for the hours around whole
days.

Keeping them exact: a conversation's closing and rating instants move (a reopened conversation
closes again later; a rating is changed) and the old instant is kept nowhere, but both only move
forward from the conversation's start. So a refresh counts again every day from the earliest
start, closing or rating among the conversations changed since the watermark; from the earliest
start among the conversations of accounts whose tier or venue is no longer what was counted
(RolledAccount); and from the day of any conversation deleted (`mark_deleted`)."""

import datetime as dt

from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Least
from django.utils import timezone

from accounts.models import Account
from reports.models import ConversationDay, RolledAccount, RollupWatermark
from reports.rollups.days import UTC, UtcDate, leftover_keys, span_keys
from support.models import Conversation

WATERMARK = "conversations"
SAFETY = dt.timedelta(minutes=10)
CLOSED, RATED = "closed", "rated"
EVENT_FIELDS = {CLOSED: "closed_at", RATED: "rated_at"}


def conversations_refresh(now: dt.datetime | None = None) -> int:
    """Count again the days that changed since the watermark (every day on the first call).
    Returns how many days were counted."""
    now = now or timezone.now()
    mark = RollupWatermark.objects.filter(name=WATERMARK).first()
    if (
        mark is not None
        and mark.through is not None
        and mark.dirty_from is None
        and now - mark.through < dt.timedelta(minutes=1)
        and not Conversation.objects.filter(updated_at__gte=mark.through).exists()
    ):
        return 0
    with transaction.atomic():
        mark, _ = RollupWatermark.objects.select_for_update().get_or_create(name=WATERMARK)
        everything = mark.through is None
        since = None if everything else _changed_since(mark)
        counted = _count_from(since) if everything or since is not None else 0
        mark.through, mark.refreshed_at, mark.dirty_from = now, timezone.now(), None
        mark.save()
    return counted


def conversations_rebuild() -> int:
    with transaction.atomic():
        RollupWatermark.objects.filter(name=WATERMARK).update(through=None)
    return conversations_refresh()


def mark_deleted(sender, instance, **kwargs) -> None:
    """A deleted conversation leaves its days counting it: mark them to be counted again
    (connected to Conversation's post_delete)."""
    day = instance.created_at_intercom.astimezone(UTC).date()
    marks = RollupWatermark.objects.filter(name=WATERMARK)
    marks.filter(Q(dirty_from__isnull=True) | Q(dirty_from__gt=day)).update(dirty_from=day)


def _changed_since(mark) -> dt.date | None:
    """The first UTC day whose counts may have changed, or None."""
    changed = Conversation.objects.filter(updated_at__gte=mark.through - SAFETY).aggregate(
        first=Min(Least("created_at_intercom", "closed_at", "rated_at"))
    )["first"]
    moved = _accounts_to_snapshot(everything=False)
    if moved:
        first_of_moved = Conversation.objects.filter(account_id__in=moved).aggregate(
            first=Min("created_at_intercom")
        )["first"]
        changed = min(filter(None, (changed, first_of_moved)), default=None)
    days = [changed.astimezone(UTC).date()] if changed else []
    if mark.dirty_from is not None:
        days.append(mark.dirty_from)
    return min(days, default=None)


def _accounts_to_snapshot(*, everything: bool) -> dict[int, tuple]:
    """{account: (tier, venue)} of the accounts not counted as they are now: new ones, and those
    whose tier or venue moved (every account when `everything`)."""
    now = {pk: (tier, venue) for pk, tier, venue in Account.objects.values_list("pk", "tier_id", "venue")}
    if everything:
        return now
    counted = {
        pk: (tier, venue)
        for pk, tier, venue in RolledAccount.objects.values_list("account_id", "tier_id", "venue")
    }
    return {pk: place for pk, place in now.items() if counted.get(pk) != place}


def _snapshot(accounts: dict[int, tuple], *, everything: bool) -> None:
    """Remember the accounts' tier and venue as counted. Taken before counting: an account that
    moves while the counts run is found moved on the next refresh."""
    stale = RolledAccount.objects.all() if everything else RolledAccount.objects.filter(pk__in=accounts)
    stale.delete()
    RolledAccount.objects.bulk_create(
        (RolledAccount(account_id=pk, tier_id=tier, venue=venue) for pk, (tier, venue) in accounts.items()),
        batch_size=2000,
    )


def _count_from(since: dt.date | None) -> int:
    """Replace the rollup rows from `since` (every row when None) with fresh counts."""
    _snapshot(_accounts_to_snapshot(everything=since is None), everything=since is None)
    days = ConversationDay.objects.all()
    conversations = Conversation.objects.order_by()
    if since is not None:
        days = days.filter(day__gte=since)
    days.delete()
    since_at = dt.datetime.combine(since, dt.time(0), tzinfo=UTC) if since else None
    for event, field in EVENT_FIELDS.items():
        rows = conversations.filter(**{f"{field}__isnull": False})
        if since_at is not None:
            rows = rows.filter(**{f"{field}__gte": since_at})
        grouping = ["day", "assignee_id", "account__tier_id", "account__venue"]
        if event == RATED:
            rows, grouping = rows.filter(rating__isnull=False), [*grouping, "rating"]
        ConversationDay.objects.bulk_create(
            (
                ConversationDay(
                    day=row["day"],
                    event=event,
                    assignee_id=row["assignee_id"],
                    tier_id=row["account__tier_id"],
                    venue=row["account__venue"],
                    rating=row.get("rating"),
                    conversations=row["n"],
                )
                for row in rows.annotate(day=UtcDate(field))
                .values(*grouping)
                .annotate(n=Count("pk"))
                .iterator(chunk_size=5000)
            ),
            batch_size=2000,
        )
    counted = (
        ConversationDay.objects.all() if since is None else ConversationDay.objects.filter(day__gte=since)
    )
    return counted.values("day").distinct().count()


def conversation_counts(spans: dict, event: str, *, specialist=None) -> list[dict]:
    """Conversations closed (event CLOSED) or rated (RATED) in each span {key: (start, end)}, per
    assignee, tier, venue and rating: rows {span, assignee, tier, venue, rating, n}. Two queries:
    the rollups' whole days, the conversations' leftover hours."""
    days, day_span, leftovers = span_keys(spans)
    counts: dict = {}
    if day_span is not None:
        rolled = ConversationDay.objects.filter(days, event=event)
        if specialist is not None:
            rolled = rolled.filter(assignee_id=specialist.pk)
        for *key, n in (
            rolled.annotate(span=day_span)
            .values_list("span", "assignee_id", "tier_id", "venue", "rating")
            .annotate(n=Sum("conversations"))
            .order_by()
        ):
            counts[tuple(key)] = counts.get(tuple(key), 0) + n
    if leftovers:
        field = EVENT_FIELDS[event]
        in_hours, row_span = leftover_keys(field, leftovers)
        rows = Conversation.objects.filter(in_hours)
        if specialist is not None:
            rows = rows.filter(assignee=specialist)
        rating = "rating" if event == RATED else None
        if rating:
            rows = rows.filter(rating__isnull=False)
        for row in (
            rows.annotate(span=row_span)
            .values(
                "span", "assignee_id", "account__tier_id", "account__venue", *([rating] if rating else [])
            )
            .annotate(n=Count("pk"))
            .order_by()
        ):
            key = (
                row["span"],
                row["assignee_id"],
                row["account__tier_id"],
                row["account__venue"],
                row.get("rating"),
            )
            counts[key] = counts.get(key, 0) + row["n"]
    names = ("span", "assignee", "tier", "venue", "rating")
    return [{**dict(zip(names, key, strict=True)), "n": n} for key, n in counts.items()]
