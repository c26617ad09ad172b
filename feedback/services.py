"""Writes for the feedback log: capture, linking accounts, triage, merging, closing the loop.

Impact (distinct accounts, their summed 30-day volume, and that volume weighted by tier) is stored
on each item and recomputed whenever its sources change, and — through the
`accounts_weighing_changed` signal — whenever a linked account's volume or tier changes."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account
from feedback.models import (
    FeedbackComment,
    FeedbackEvent,
    FeedbackItem,
    FeedbackSource,
    FollowUp,
    ProductArea,
)
from portal.db import bulk_update_rows
from portal.models import User
from portal.roles import Role, user_roles

Status = FeedbackItem.Status
CLOSING = {Status.SHIPPED, Status.DECLINED}
ZERO = Decimal("0")


def _event(item, kind, by, summary, **fields) -> FeedbackEvent:
    return FeedbackEvent.objects.create(
        item=item, kind=kind, actor=by, at=timezone.now(), summary=summary[:300], **fields
    )


# --- impact ------------------------------------------------------------------------------------


def impact_refresh(item_ids) -> None:
    """Recompute stored impact for these items from their sources, in two queries per 1,000."""
    ids = sorted({int(pk) for pk in item_ids})
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        weighted = ExpressionWrapper(
            F("account__volume_30d_usd") * F("account__tier__weight"),
            output_field=DecimalField(max_digits=24, decimal_places=4),
        )
        rows = {
            row["item_id"]: row
            for row in FeedbackSource.objects.filter(item_id__in=chunk)
            .values("item_id")
            .annotate(
                accounts=Count("account_id", distinct=True),
                volume=Coalesce(Sum("account__volume_30d_usd"), ZERO, output_field=DecimalField()),
                score=Coalesce(Sum(weighted), ZERO, output_field=DecimalField()),
            )
        }
        bulk_update_rows(
            FeedbackItem,
            ["impact_accounts", "impact_volume_usd", "impact_score"],
            (
                (
                    rows.get(pk, {}).get("accounts", 0),
                    Decimal(rows.get(pk, {}).get("volume", ZERO)).quantize(Decimal("0.01")),
                    Decimal(rows.get(pk, {}).get("score", ZERO)).quantize(Decimal("0.01")),
                    pk,
                )
                for pk in chunk
            ),
        )


def impact_refresh_for_accounts(account_ids) -> None:
    item_ids = FeedbackSource.objects.filter(account_id__in=list(account_ids)).values_list(
        "item_id", flat=True
    )
    impact_refresh(set(item_ids))


# --- capture and linking ---------------------------------------------------------------------


def _require(user: User, *roles: str, what: str) -> None:
    if not set(roles) & user_roles(user):
        raise ValidationError(f"Your role can’t {what}.")


@transaction.atomic
def feedback_create(
    *,
    by: User,
    title: str,
    category: str,
    description: str = "",
    severity: str = FeedbackItem.Severity.MINOR,
    area: ProductArea | None = None,
    account: Account | None = None,
    note: str = "",
    dispute_case=None,
    intercom_conversation_id: str = "",
) -> FeedbackItem:
    """A new item, optionally with the account that raised it."""
    _require(by, Role.SPECIALIST, Role.ADMIN, Role.PRODUCT, what="log feedback")
    errors = {}
    if not (title or "").strip():
        errors["title"] = "Give the feedback a short title."
    if category not in FeedbackItem.Category.values:
        errors["category"] = "Choose a category."
    if severity not in FeedbackItem.Severity.values:
        errors["severity"] = "Choose a severity."
    if errors:
        raise ValidationError(errors)
    item = FeedbackItem.objects.create(
        title=title.strip()[:200],
        description=(description or "").strip(),
        category=category,
        severity=severity,
        area=area,
        created_by=by,
        dispute_case=dispute_case,
        intercom_conversation_id=(intercom_conversation_id or "").strip()[:40],
        status_changed_at=timezone.now(),
    )
    _event(item, "created", by, f"Logged by {by.username}", after={"status": item.status})
    if account is not None:
        source_link(item=item, account=account, by=by, note=note)
    return item


@transaction.atomic
def source_link(
    *, item: FeedbackItem, account: Account, by: User, note: str = "", said_at: dt.datetime | None = None
) -> FeedbackSource:
    """Record that `account` raised `item`. Linking the same account twice is refused."""
    _require(by, Role.SPECIALIST, Role.ADMIN, what="link accounts to feedback")
    if item.status == Status.DUPLICATE and item.duplicate_of_id:
        raise ValidationError(
            f"“{item.title}” is a duplicate; link the account to the item it was merged into instead."
        )
    if said_at and said_at > timezone.now() + dt.timedelta(minutes=2):
        raise ValidationError({"said_at": "That is in the future."})
    try:
        with transaction.atomic():
            source = FeedbackSource.objects.create(
                item=item,
                account=account,
                note=(note or "").strip()[:500],
                said_at=said_at or timezone.now(),
                added_by=by,
            )
    except IntegrityError:
        raise ValidationError(f"{account.display_name} is already linked to this item.") from None
    _event(item, "linked", by, f"{account.display_name} linked", after={"account": account.pk})
    impact_refresh([item.pk])
    FeedbackItem.objects.filter(pk=item.pk).update(updated_at=timezone.now())
    return source


@transaction.atomic
def source_unlink(*, source: FeedbackSource, by: User) -> None:
    _require(by, Role.SPECIALIST, Role.ADMIN, what="unlink accounts from feedback")
    item = source.item
    name = source.account.display_name
    source.delete()
    _event(item, "unlinked", by, f"{name} unlinked")
    impact_refresh([item.pk])


@transaction.atomic
def comment_add(*, item: FeedbackItem, by: User, body: str) -> FeedbackComment:
    _require(by, Role.SPECIALIST, Role.ADMIN, Role.PRODUCT, what="comment on feedback")
    if not (body or "").strip():
        raise ValidationError({"body": "Write the comment."})
    return FeedbackComment.objects.create(
        item=item, author=by, body=body.strip()[:10_000], created_at=timezone.now()
    )


# --- triage -------------------------------------------------------------------------------------


@transaction.atomic
def item_triage(
    *,
    item: FeedbackItem,
    by: User,
    status: str | None = None,
    owner_team: str | None = None,
    area: ProductArea | None = None,
    severity: str | None = None,
    tracker_url: str | None = None,
) -> FeedbackItem:
    """Product (and Admins) triage: status, owner team, area, severity, tracker link. Every change
    is in the history; shipping or declining gives each linked account's owner a follow-up."""
    _require(by, Role.PRODUCT, Role.ADMIN, what="triage feedback (Product does)")
    item = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    if status is not None and status not in Status.values:
        raise ValidationError({"status": "Choose a status."})
    if status == Status.DUPLICATE and item.status != Status.DUPLICATE:
        raise ValidationError({"status": "Mark a duplicate by merging it into the item it repeats."})
    if item.status == Status.DUPLICATE and status not in (None, Status.DUPLICATE):
        raise ValidationError({"status": "This item was merged; an Admin can undo the merge first."})
    if owner_team is not None and owner_team not in FeedbackItem.Team.values:
        raise ValidationError({"owner_team": "Choose a team."})
    if severity is not None and severity not in FeedbackItem.Severity.values:
        raise ValidationError({"severity": "Choose a severity."})
    changes = {}
    for name, value in (
        ("status", status),
        ("owner_team", owner_team),
        ("area", area),
        ("severity", severity),
        ("tracker_url", tracker_url),
    ):
        if value is not None and getattr(item, name) != value:
            changes[name] = (getattr(item, name), value)
            setattr(item, name, value)
    if not changes:
        return item
    if "status" in changes:
        item.status_changed_at = timezone.now()
        _first_triage_and_shipping(item, left=changes["status"][0])
    item.save()
    for name, (before, after) in changes.items():
        shown = [str(v) if not hasattr(v, "pk") else (v.name if v else "") for v in (before, after)]
        _event(
            item,
            name,
            by,
            f"{FeedbackItem._meta.get_field(name).verbose_name.capitalize()}: {shown[0] or '—'} → {shown[1] or '—'}",
            before={name: shown[0]},
            after={name: shown[1]},
        )
    if "area" in changes:
        # The reports count users told by their item's area: counted again from these.
        FollowUp.objects.filter(item=item).update(updated_at=timezone.now())
    if "status" in changes and item.status in CLOSING:
        _follow_ups_create(item)
    return item


def _first_triage_and_shipping(item: FeedbackItem, *, left: str) -> None:
    """Keep when the item first left New and first became Shipped (the reports count by them)."""
    if left == Status.NEW and item.triaged_at is None:
        item.triaged_at = item.status_changed_at
    if item.status == Status.SHIPPED and item.shipped_at is None:
        item.shipped_at = item.status_changed_at


def _follow_ups_create(item: FeedbackItem) -> int:
    now = timezone.now()
    sources = FeedbackSource.objects.filter(item=item).select_related("account")
    made = FollowUp.objects.bulk_create(
        [
            FollowUp(
                item=item, account=s.account, owner_id=s.account.owner_id, outcome=item.status, created_at=now
            )
            for s in sources
        ],
        ignore_conflicts=True,
    )
    return len(made)


@transaction.atomic
def follow_up_complete(*, follow_up: FollowUp, by: User, summary: str = "") -> FollowUp:
    """The owner told the user: a follow-up check-in on the account and a note in Intercom."""
    from accounts.services import check_in_log
    from integrations.models import SyncJob
    from integrations.outbox import outbox_record

    follow_up = FollowUp.objects.select_for_update().select_related("item", "account").get(pk=follow_up.pk)
    if follow_up.done_at is not None:
        raise ValidationError("This follow-up is already done.")
    if follow_up.owner_id != by.pk and Role.ADMIN not in user_roles(by):
        raise ValidationError("Only the account's owner can complete this follow-up.")
    item = follow_up.item
    text = (
        summary or ""
    ).strip() or f"Told the user that “{item.title}” was {item.get_status_display().lower()}."
    check_in = check_in_log(
        account=follow_up.account, by=by, occurred_at=timezone.now(), kind="follow_up", summary=text[:2000]
    )
    follow_up.done_at, follow_up.check_in = timezone.now(), check_in
    follow_up.save(update_fields=["done_at", "check_in", "updated_at"])
    outbox_record(
        kind=SyncJob.Kind.CONTACT_NOTE,
        key=f"feedback:{item.pk}:account:{follow_up.account_id}",
        payload={
            "external_id": follow_up.account.external_id,
            "author_id": by.pk,
            "author_email": by.email,
            "body": text[:2000],
        },
    )
    return follow_up


# --- merging ------------------------------------------------------------------------------------


def _chain(item: FeedbackItem) -> list[int]:
    """The ids `item` points at through duplicate_of, survivor last."""
    seen, current = [], item
    while current.duplicate_of_id and current.duplicate_of_id not in seen and len(seen) < 100:
        seen.append(current.duplicate_of_id)
        current = FeedbackItem.objects.only("pk", "duplicate_of_id").get(pk=current.duplicate_of_id)
    return seen


@transaction.atomic
def item_merge(*, item: FeedbackItem, into: FeedbackItem, by: User) -> FeedbackItem:
    """Fold a duplicate into the item it repeats: accounts (with their notes) and comments move
    over, the duplicate points at the survivor, and both histories say so."""
    _require(by, Role.PRODUCT, Role.SPECIALIST, Role.ADMIN, what="merge feedback")
    locked = {i.pk: i for i in FeedbackItem.objects.select_for_update().filter(pk__in=[item.pk, into.pk])}
    item, into = locked.get(item.pk), locked.get(into.pk)
    if item is None or into is None:
        raise ValidationError("One of the items no longer exists.")
    if item.pk == into.pk:
        raise ValidationError("An item can’t be merged into itself.")
    if item.status == Status.DUPLICATE:
        raise ValidationError("This item is already a duplicate of another one.")
    if into.status == Status.DUPLICATE or item.pk in _chain(into):
        raise ValidationError("That item is itself a duplicate; merge into the item it was merged into.")
    already = set(FeedbackSource.objects.filter(item=into).values_list("account_id", flat=True))
    moving = FeedbackSource.objects.filter(item=item).exclude(account_id__in=already)
    moved_accounts = moving.count()
    moving.update(item=into, merged_from=item)
    FeedbackComment.objects.filter(item=item).update(item=into, merged_from=item)
    before_status = item.status
    item.status, item.duplicate_of, item.status_changed_at = Status.DUPLICATE, into, timezone.now()
    item.save(update_fields=["status", "duplicate_of", "status_changed_at", "updated_at"])
    _event(
        item,
        "merged",
        by,
        f"Merged into #{into.pk} “{into.title}”",
        before={"status": before_status},
        after={"status": Status.DUPLICATE, "into": into.pk},
    )
    _event(
        into,
        "merged_in",
        by,
        f"#{item.pk} “{item.title}” merged in ({moved_accounts} accounts moved)",
        after={"from": item.pk},
    )
    impact_refresh([item.pk, into.pk])
    return into


@transaction.atomic
def merge_undo(*, item: FeedbackItem, by: User) -> FeedbackItem:
    """Admins only: move the duplicate's accounts and comments back and restore its status."""
    _require(by, Role.ADMIN, what="undo a merge (Admins do)")
    item = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    if item.status != Status.DUPLICATE or item.duplicate_of_id is None:
        raise ValidationError("This item was not merged.")
    survivor_id = item.duplicate_of_id
    FeedbackSource.objects.filter(item_id=survivor_id, merged_from=item).update(item=item, merged_from=None)
    FeedbackComment.objects.filter(item_id=survivor_id, merged_from=item).update(item=item, merged_from=None)
    merged = item.events.filter(kind="merged").order_by("-at", "-pk").first()
    previous = (merged.before or {}).get("status", Status.NEW) if merged else Status.NEW
    item.status, item.duplicate_of, item.status_changed_at = previous, None, timezone.now()
    item.save(update_fields=["status", "duplicate_of", "status_changed_at", "updated_at"])
    _event(item, "unmerged", by, f"Merge into #{survivor_id} undone", after={"status": previous})
    _event(FeedbackItem.objects.get(pk=survivor_id), "unmerged_out", by, f"#{item.pk} taken back out")
    impact_refresh([item.pk, survivor_id])
    return item
