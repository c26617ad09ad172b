"""Every write to the portfolio. Each function is one transaction and keeps the account's
derived fields (last check-in, last contact, next due) and its Intercom outbox job in step."""

import datetime as dt
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Account, AccountEvent, CheckIn, Tier, Wallet
from accounts.selectors import check_in_editable_by
from accounts.services.timeline import account_event_record
from accounts.signals import accounts_weighing_changed
from accounts.wallets import normalise_address, to_checksum_address
from integrations.outbox import outbox_record, outbox_record_many
from portal.models import User
from portal.roles import Role, user_roles

CONTACT_SYNC_KIND = "contact.upsert"
MAX_SNOOZE_DAYS = 14
# A check-in logged "now" from a device whose clock runs slightly ahead is not in the future.
CLOCK_SKEW = dt.timedelta(minutes=2)
EARLIEST_CHECK_IN_YEAR = 2000

ACCOUNT_FIELDS = [
    "display_name",
    "email",
    "external_id",
    "intercom_contact_id",
    "venue",
    "tier",
    "owner",
    "status",
    "cadence_override_days",
    "time_zone",
    "preferred_channel",
    "volume_30d_usd",
    "volume_prior_30d_usd",
    "notes",
]


@dataclass(frozen=True)
class WalletInput:
    address: str
    label: str = ""
    is_proxy: bool = True


@dataclass
class AccountInput:
    display_name: str
    email: str
    external_id: str
    tier: Tier
    owner: User
    intercom_contact_id: str = ""
    venue: str = "international"
    status: str = Account.Status.ACTIVE
    cadence_override_days: int | None = None
    time_zone: str = "UTC"
    preferred_channel: str = "intercom"
    volume_30d_usd: Decimal = Decimal("0")
    volume_prior_30d_usd: Decimal = Decimal("0")
    notes: str = ""
    wallets: list[WalletInput] = field(default_factory=list)


# --- derived fields -------------------------------------------------------------------------


def compute_next_due(account: Account) -> dt.datetime | None:
    """Next check-in due: the last check-in plus the cadence (an account never checked in is
    due from its creation), pushed back by an active snooze; none unless the account is active."""
    if account.status != Account.Status.ACTIVE:
        return None
    start = account.last_check_in_at or account.created_at or timezone.now()
    due = start + dt.timedelta(days=account.cadence_days)
    if account.snoozed_until and account.snoozed_until > due:
        return account.snoozed_until
    return due


def contact_payload(account: Account) -> dict:
    """What Intercom keeps about an advanced user: custom attributes on the contact, the tier's
    tag, and the owner (the sender maps the owner's id to their Intercom teammate)."""
    due = account.next_check_in_due
    return {
        "external_id": account.external_id,
        "email": account.email,
        "name": account.display_name,
        "owner_id": account.owner_id,  # the sender writes as the owner's mapped teammate
        "tier_tag": account.tier.intercom_tag or f"Advanced: {account.tier.name}",
        "portal_path": f"/accounts/{account.pk}/",
        "custom_attributes": {
            "advanced_tier": account.tier.name,
            "advanced_owner": account.owner.get_full_name() or account.owner.username,
            "advanced_next_check_in_due": int(due.timestamp()) if due else None,
            "advanced_health_score": account.health_score,
            "advanced_status": account.status,
        },
    }


def _record_contact_sync(account: Account) -> None:
    outbox_record(kind=CONTACT_SYNC_KIND, key=f"account:{account.pk}", payload=contact_payload(account))


def _event(account: Account, kind: str, by: User | None, summary: str, **details) -> AccountEvent:
    return account_event_record(account_id=account.pk, kind=kind, actor=by, summary=summary, details=details)


def _refresh_contact_times(account: Account) -> None:
    """Recompute last check-in, last contact and next due from the check-ins themselves, so a
    back-dated, edited or deleted check-in leaves the account exactly right."""
    latest = account.check_ins.aggregate(latest=Max("occurred_at"))["latest"]
    account.last_check_in_at = latest
    account.last_contact_at = latest
    account.next_check_in_due = compute_next_due(account)
    account.save(update_fields=["last_check_in_at", "last_contact_at", "next_check_in_due", "updated_at"])
    _refresh_health(account)


HEALTH_INPUTS = {"tier", "cadence_override_days", "status", "volume_30d_usd", "volume_prior_30d_usd"}


_deferred_health: ContextVar[set[int] | None] = ContextVar("deferred_health", default=None)


@contextmanager
def health_refresh_deferred():
    """Within this block, accounts whose health must be recomputed are collected and scored
    together on the way out (one bulk pass instead of one per account: imports use it)."""
    from accounts.services.cadence import health_refresh

    if _deferred_health.get() is not None:  # already deferring: the outer block scores them
        yield
        return
    token = _deferred_health.set(set())
    try:
        yield
        pending = _deferred_health.get()
    finally:
        _deferred_health.reset(token)
    if pending and not connection.needs_rollback:  # a rolled-back block has nothing to score
        health_refresh(account_ids=sorted(pending))


def health_refresh_soon(*, account_ids) -> None:
    """Rescore these accounts now, or at the end of the surrounding `health_refresh_deferred`
    block (for other apps whose data weighs on health: disputes, conversation ratings)."""
    from accounts.services.cadence import health_refresh

    pending = _deferred_health.get()
    if pending is not None:
        pending.update(account_ids)
        return
    health_refresh(account_ids=list(account_ids))


def _refresh_health(account: Account) -> None:
    from accounts.services.cadence import health_refresh

    pending = _deferred_health.get()
    if pending is not None:
        pending.add(account.pk)
        return
    health_refresh(account_ids=[account.pk])
    account.refresh_from_db(fields=["health_score", "health_components", "health_updated_at"])


def _lock(account: Account) -> Account:
    """Re-read the account under a row lock, so concurrent writes to it queue up."""
    return Account.objects.select_for_update().select_related("tier", "owner").get(pk=account.pk)


# --- owners ----------------------------------------------------------------------------------


def validate_owner(owner: User | None) -> None:
    """Only active people in the Specialist role own accounts (a superuser alone does not)."""
    if owner is None:
        raise ValidationError({"owner": "Choose the specialist who owns this account."})
    if not owner.is_active or Role.SPECIALIST not in user_roles(owner):
        raise ValidationError(
            {"owner": f"{owner.username} is not an active Specialist, so cannot own accounts."}
        )


# --- accounts --------------------------------------------------------------------------------


@transaction.atomic
def account_create(*, by: User | None, data: AccountInput) -> Account:
    """Create an account with its wallets. Raises ValidationError (by field) for bad input,
    duplicates and a non-Specialist owner; writes nothing then."""
    validate_owner(data.owner)
    account = Account(**{name: getattr(data, name) for name in ACCOUNT_FIELDS})
    account.email = account.email.strip().lower()
    _validate_account(account)
    _save_unique(account)
    account.next_check_in_due = compute_next_due(account)
    account.save(update_fields=["next_check_in_due"])
    for wallet in data.wallets:
        _wallet_create(account, wallet)
    _event(account, AccountEvent.Kind.CREATED, by, f"Account created, owned by {account.owner.username}")
    _refresh_health(account)
    _record_contact_sync(account)
    return account


def _validate_account(account: Account) -> None:
    """Field validation, then uniqueness in one query. Django's own constraint validation would
    run a query per constraint; the database still enforces every one of them."""
    account.full_clean(exclude=["next_check_in_due"], validate_unique=False, validate_constraints=False)
    clash = Q(email__iexact=account.email) | Q(external_id=account.external_id)
    if account.intercom_contact_id:
        clash |= Q(intercom_contact_id=account.intercom_contact_id)
    others = (
        Account.objects.filter(clash)
        .exclude(pk=account.pk)
        .values_list("email", "external_id", "intercom_contact_id")
    )
    errors = {}
    for email, external_id, intercom_id in others:
        if email.lower() == account.email.lower():
            errors["email"] = "Another account already uses this e-mail address."
        if external_id == account.external_id:
            errors["external_id"] = "Another account already has this external user id."
        if account.intercom_contact_id and intercom_id == account.intercom_contact_id:
            errors["intercom_contact_id"] = "Another account is already linked to this Intercom contact."
    if errors:
        raise ValidationError(errors)


def _save_unique(account: Account, **kwargs) -> None:
    """Save, turning a uniqueness race lost to another writer into a form error."""
    try:
        with transaction.atomic():
            account.save(**kwargs)
    except IntegrityError as error:
        raise ValidationError(
            "Another account already uses this e-mail, external id or Intercom id."
        ) from error


def _describe(value) -> str:
    if value is None or value == "":
        return "—"
    return getattr(value, "username", None) or str(value)


@transaction.atomic
def account_update(*, account: Account, by: User | None, changes: dict) -> Account:
    """Apply field changes, record what changed in the timeline, and recompute the next due
    date when the tier, cadence override or status changed. Unknown fields raise ValueError."""
    unknown = set(changes) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    account = _lock(account)
    if "owner" in changes and changes["owner"] != account.owner:
        validate_owner(changes["owner"])
    before = {name: getattr(account, name) for name in changes}
    for name, value in changes.items():
        setattr(account, name, value)
    account.email = account.email.strip().lower()
    changed = [name for name in changes if getattr(account, name) != before[name]]
    if not changed:
        return account
    _validate_account(account)
    if {"tier", "cadence_override_days", "status"} & set(changed):
        if "status" in changed and account.status != Account.Status.ACTIVE:
            account.snoozed_until = None
        account.next_check_in_due = compute_next_due(account)
    _save_unique(account)
    described = {name: [_describe(before[name]), _describe(getattr(account, name))] for name in changed}
    if "owner" in changed:
        _event(
            account,
            AccountEvent.Kind.REASSIGNED,
            by,
            f"Reassigned from {described['owner'][0]} to {described['owner'][1]}",
        )
    if "status" in changed:
        _event(
            account,
            AccountEvent.Kind.STATUS,
            by,
            f"Status {described['status'][0]} → {described['status'][1]}",
        )
    if HEALTH_INPUTS & set(changed):
        _refresh_health(account)
    others = [name for name in changed if name not in ("owner", "status")]
    if others:
        labels = ", ".join(Account._meta.get_field(name).verbose_name for name in others)
        _event(
            account,
            AccountEvent.Kind.UPDATED,
            by,
            f"Edited {labels}",
            changes={n: described[n] for n in others},
        )
    if {"tier", "volume_30d_usd"} & set(changed):
        accounts_weighing_changed.send(sender=Account, account_ids=[account.pk])
    _record_contact_sync(account)
    return account


@transaction.atomic
def account_snooze(*, account: Account, by: User, days: int, reason: str) -> Account:
    """Push the next check-in back by 1–14 days from now (or from its due time, if later),
    with a reason kept in the timeline. Only active accounts have a check-in to snooze."""
    account = _lock(account)
    reason = (reason or "").strip()
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_SNOOZE_DAYS:
        errors["days"] = f"Snooze for 1 to {MAX_SNOOZE_DAYS} days."
    if not reason:
        errors["reason"] = "Say why the check-in is snoozed; it is kept in the timeline."
    if account.status != Account.Status.ACTIVE:
        errors["days"] = "Only active accounts have a check-in to snooze."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    start = max(now, account.next_check_in_due or now)
    account.snoozed_until = start + dt.timedelta(days=days)
    account.next_check_in_due = compute_next_due(account)
    account.save(update_fields=["snoozed_until", "next_check_in_due", "updated_at"])
    _event(
        account,
        AccountEvent.Kind.SNOOZED,
        by,
        f"Check-in snoozed {days} day{'s' if days != 1 else ''}: {reason}",
        until=account.snoozed_until.isoformat(),
        reason=reason,
    )
    _record_contact_sync(account)
    return account


@transaction.atomic
def accounts_reassign(*, accounts: Iterable[Account], to: User, by: User, reason: str = "") -> int:
    """Move accounts to another specialist in one step, each change in its account's timeline.
    Accounts the target already owns are left alone. Returns how many moved."""
    validate_owner(to)
    ids = [a.pk for a in accounts]
    moving = list(
        Account.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(owner=to)
        .select_related("owner", "tier")
        .order_by("pk")
    )
    if not moving:
        return 0
    now = timezone.now()
    suffix = f": {reason.strip()}" if reason and reason.strip() else ""
    events = [
        AccountEvent(
            account=a,
            kind=AccountEvent.Kind.REASSIGNED,
            actor=by,
            at=now,
            summary=f"Reassigned from {a.owner.username} to {to.username}{suffix}"[:300],
            details={"from": a.owner.username, "to": to.username, "reason": reason.strip()},
        )
        for a in moving
    ]
    Account.objects.filter(pk__in=[a.pk for a in moving]).update(owner=to, updated_at=now)
    AccountEvent.objects.bulk_create(events, batch_size=500)
    for account in moving:
        account.owner = to
    outbox_record_many(
        kind=CONTACT_SYNC_KIND, payloads={f"account:{a.pk}": contact_payload(a) for a in moving}
    )
    return len(moving)


def portfolio_reassign(*, from_owner: User, to: User, by: User, reason: str = "") -> int:
    """Move a whole portfolio (a specialist leaving or going on leave) in one step."""
    if from_owner == to:
        raise ValidationError({"to": "Choose a different specialist to take the portfolio over."})
    return accounts_reassign(accounts=Account.objects.filter(owner=from_owner), to=to, by=by, reason=reason)


# --- check-ins -------------------------------------------------------------------------------


PAST_FOLLOW_UP = "A follow-up can’t be due in the past. Choose today or a later day."


def _validate_check_in(
    occurred_at: dt.datetime | None, summary: str, follow_up: str, follow_up_due, *, due_changed: bool = True
) -> None:
    """The rules of every check-in. A back-dated check-in is fine; its follow-up, when set or
    moved, is due today or later in the writer's zone (the active one)."""
    errors = {}
    if occurred_at is None:
        errors["occurred_at"] = "Say when the check-in happened."
    elif occurred_at > timezone.now() + CLOCK_SKEW:
        errors["occurred_at"] = "A check-in can’t be in the future. Log it once it has happened."
    elif occurred_at.year < EARLIEST_CHECK_IN_YEAR:
        errors["occurred_at"] = f"A check-in before {EARLIEST_CHECK_IN_YEAR} is surely a typo in the year."
    if not (summary or "").strip():
        errors["summary"] = "Write a short summary of what was discussed."
    if follow_up_due and not (follow_up or "").strip():
        errors["follow_up"] = "Describe the follow-up that is due."
    if follow_up_due and due_changed and follow_up_due < timezone.localdate():
        errors["follow_up_due"] = PAST_FOLLOW_UP
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def check_in_log(
    *,
    account: Account,
    by: User,
    occurred_at: dt.datetime,
    kind: str = CheckIn.Kind.SCHEDULED,
    channel: str = "intercom",
    summary: str,
    sentiment: str = CheckIn.Sentiment.NEUTRAL,
    follow_up: str = "",
    follow_up_due: dt.date | None = None,
) -> CheckIn:
    """Log a check-in (any kind, possibly back-dated) and, in the same transaction, update the
    account's last check-in, last contact and next due. A logged check-in ends any snooze.
    Raises ValidationError for a future time, an empty summary, a follow-up date without text
    or a follow-up due in the past."""
    _validate_check_in(occurred_at, summary, follow_up, follow_up_due)
    account = _lock(account)
    check_in = CheckIn(
        account=account,
        specialist=by,
        occurred_at=occurred_at,
        kind=kind,
        channel=channel,
        summary=summary.strip(),
        sentiment=sentiment,
        follow_up=(follow_up or "").strip(),
        follow_up_due=follow_up_due,
    )
    check_in.full_clean()
    check_in.save()
    account.snoozed_until = None
    account.save(update_fields=["snoozed_until"])
    _refresh_contact_times(account)
    _record_contact_sync(account)
    return check_in


CHECK_IN_EDITABLE = ("occurred_at", "kind", "channel", "summary", "sentiment", "follow_up", "follow_up_due")


def _describe_check_in(name: str, value) -> str:
    """A check-in field's value as the timeline shows it (times with their zone)."""
    if value is None or value == "":
        return "—"
    if name == "occurred_at":
        local = timezone.localtime(value)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    choices = dict(CheckIn._meta.get_field(name).choices or ())
    if value in choices:
        return str(choices[value])
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _require_may_change(check_in: CheckIn, by: User) -> None:
    if not check_in_editable_by(check_in, by):
        raise PermissionDenied(
            "Only the person who logged a check-in, the account's owner or an Admin may change it."
        )


@transaction.atomic
def check_in_update(*, check_in: CheckIn, by: User, changes: dict) -> CheckIn:
    """Edit a check-in; the account's dates are recomputed and the edit is kept in the timeline
    with the before and after of every changed field. Only the check-in's author, the account's
    owner or an Admin may (PermissionDenied otherwise). Nothing changed: nothing is recorded."""
    unknown = set(changes) - set(CHECK_IN_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    _require_may_change(check_in, by)
    account = _lock(check_in.account)
    # Compare with the stored row: a ModelForm bound to `check_in` has already copied the
    # submitted values onto it.
    check_in = CheckIn.objects.select_related("account").get(pk=check_in.pk)
    changes = {name: value.strip() if isinstance(value, str) else value for name, value in changes.items()}
    before = {name: getattr(check_in, name) for name in CHECK_IN_EDITABLE}
    merged = {**before, **changes}
    _validate_check_in(
        merged["occurred_at"],
        merged["summary"],
        merged["follow_up"],
        merged["follow_up_due"],
        due_changed=merged["follow_up_due"] != before["follow_up_due"],
    )
    changed = [name for name in CHECK_IN_EDITABLE if merged[name] != before[name]]
    if not changed:
        return check_in
    for name in changed:
        setattr(check_in, name, merged[name])
    check_in.full_clean()
    check_in.save()
    labels = ", ".join(str(CheckIn._meta.get_field(name).verbose_name) for name in changed)
    _event(
        account,
        AccountEvent.Kind.CHECK_IN_EDITED,
        by,
        f"Edited the check-in of {timezone.localtime(before['occurred_at']):%Y-%m-%d %H:%M}: {labels}"[:300],
        check_in=check_in.pk,
        changes={
            name: [_describe_check_in(name, before[name]), _describe_check_in(name, merged[name])]
            for name in changed
        },
    )
    _refresh_contact_times(account)
    _record_contact_sync(account)
    return check_in


@transaction.atomic
def check_in_delete(*, check_in: CheckIn, by: User) -> None:
    """Delete a check-in (logged by mistake); the account's dates are recomputed and the deleted
    text is kept in the timeline. Only the check-in's author, the account's owner or an Admin
    may (PermissionDenied otherwise)."""
    _require_may_change(check_in, by)
    account = _lock(check_in.account)
    when = timezone.localtime(check_in.occurred_at)
    summary = check_in.summary
    check_in.delete()
    _event(
        account,
        AccountEvent.Kind.CHECK_IN_DELETED,
        by,
        f"Deleted the check-in of {when:%Y-%m-%d %H:%M}",
        deleted_summary=summary[:500],
    )
    _refresh_contact_times(account)
    _record_contact_sync(account)


@transaction.atomic
def follow_up_complete(*, check_in: CheckIn, by: User) -> CheckIn:
    """Mark a check-in's follow-up done. Safe to repeat."""
    if not check_in.follow_up:
        raise ValidationError("This check-in has no follow-up.")
    if not check_in.follow_up_done:
        check_in.follow_up_done = True
        check_in.follow_up_done_at = timezone.now()
        check_in.save(update_fields=["follow_up_done", "follow_up_done_at", "updated_at"])
    return check_in


# --- wallets ---------------------------------------------------------------------------------


def _wallet_create(account: Account, data: WalletInput) -> Wallet:
    address = normalise_address(data.address)
    owner = Wallet.objects.filter(address=address).select_related("account").first()
    if owner is not None:
        where = (
            "this account" if owner.account_id == account.pk else f"account “{owner.account.display_name}”"
        )
        raise ValidationError({"address": f"{to_checksum_address(address)} already belongs to {where}."})
    wallet = Wallet(account=account, address=address, label=data.label.strip(), is_proxy=data.is_proxy)
    wallet.full_clean(exclude=["account"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            wallet.save()
    except IntegrityError as error:
        raise ValidationError({"address": "This wallet address already belongs to an account."}) from error
    return wallet


@transaction.atomic
def wallet_add(*, account: Account, by: User, data: WalletInput) -> Wallet:
    """Attach a wallet. Raises ValidationError for a malformed address, a failed EIP-55
    checksum, or an address that already belongs to an account."""
    wallet = _wallet_create(account, data)
    _event(account, AccountEvent.Kind.WALLET_ADDED, by, f"Wallet {wallet.checksum_address} added")
    return wallet


@transaction.atomic
def wallet_remove(*, wallet: Wallet, by: User) -> None:
    account = wallet.account
    address = wallet.checksum_address
    wallet.delete()
    _event(account, AccountEvent.Kind.WALLET_REMOVED, by, f"Wallet {address} removed")


# --- tiers -----------------------------------------------------------------------------------


def tiers_ensure_defaults() -> None:
    """Create the default tiers when none exist (after a flush, for example). Idempotent."""
    from importlib import import_module

    if Tier.objects.exists():
        return
    defaults = import_module("accounts.migrations.0002_default_tiers").DEFAULT_TIERS
    for name, rank, cadence, weight, tag, description in defaults:
        Tier.objects.get_or_create(
            name=name,
            defaults={
                "rank": rank,
                "default_cadence_days": cadence,
                "weight": Decimal(weight),
                "intercom_tag": tag,
                "description": description,
            },
        )
