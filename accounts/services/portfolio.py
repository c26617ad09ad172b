"""Writes to the accounts themselves: creating and editing one, snoozing its check-in, moving
accounts between specialists, and the default tiers. Each write is one transaction and keeps the
account's next due, health, timeline and Intercom outbox job in step. Check-ins, wallets, health
and the contact sync have their own modules beside this one."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, AccountEvent, Tier
from accounts.services.cadence import compute_next_due
from accounts.services.contact_sync import contact_sync_record, contact_sync_record_many
from accounts.services.health import HEALTH_INPUTS, health_refresh_account
from accounts.services.timeline import account_event_record
from accounts.services.wallets import WalletInput, wallet_attach
from accounts.signals import accounts_weighing_changed
from portal.models import User
from portal.roles import Role, user_roles

MAX_SNOOZE_DAYS = 14

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


def account_lock(account: Account) -> Account:
    """Re-read the account under a row lock, so concurrent writes to it queue up."""
    return Account.objects.select_for_update().select_related("tier", "owner").get(pk=account.pk)


def validate_owner(owner: User | None) -> None:
    """Only active people in the Specialist role own accounts (a superuser alone does not)."""
    if owner is None:
        raise ValidationError({"owner": "Choose the specialist who owns this account."})
    if not owner.is_active or Role.SPECIALIST not in user_roles(owner):
        raise ValidationError(
            {"owner": f"{owner.username} is not an active Specialist, so cannot own accounts."}
        )


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
        wallet_attach(account, wallet)
    account_event_record(
        account_id=account.pk,
        kind=AccountEvent.Kind.CREATED,
        actor=by,
        summary=f"Account created, owned by {account.owner.display_name}",
    )
    health_refresh_account(account)
    contact_sync_record(account)
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
    account = account_lock(account)
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
        account_event_record(
            account_id=account.pk,
            kind=AccountEvent.Kind.REASSIGNED,
            actor=by,
            summary=f"Reassigned from {described['owner'][0]} to {described['owner'][1]}",
        )
    if "status" in changed:
        account_event_record(
            account_id=account.pk,
            kind=AccountEvent.Kind.STATUS,
            actor=by,
            summary=f"Status {described['status'][0]} → {described['status'][1]}",
        )
    if HEALTH_INPUTS & set(changed):
        health_refresh_account(account)
    others = [name for name in changed if name not in ("owner", "status")]
    if others:
        labels = ", ".join(Account._meta.get_field(name).verbose_name for name in others)
        account_event_record(
            account_id=account.pk,
            kind=AccountEvent.Kind.UPDATED,
            actor=by,
            summary=f"Edited {labels}",
            details={"changes": {n: described[n] for n in others}},
        )
    if {"tier", "volume_30d_usd"} & set(changed):
        accounts_weighing_changed.send(sender=Account, account_ids=[account.pk])
    contact_sync_record(account)
    return account


@transaction.atomic
def account_snooze(*, account: Account, by: User, days: int, reason: str) -> Account:
    """Push the next check-in back by 1–14 days from now (or from its due time, if later),
    with a reason kept in the timeline. Only active accounts have a check-in to snooze."""
    account = account_lock(account)
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
    account_event_record(
        account_id=account.pk,
        kind=AccountEvent.Kind.SNOOZED,
        actor=by,
        summary=f"Check-in snoozed {days} day{'s' if days != 1 else ''}: {reason}",
        details={"until": account.snoozed_until.isoformat(), "reason": reason},
    )
    contact_sync_record(account)
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
            summary=f"Reassigned from {a.owner.display_name} to {to.display_name}{suffix}"[:300],
            details={"from": a.owner.username, "to": to.username, "reason": reason.strip()},
        )
        for a in moving
    ]
    Account.objects.filter(pk__in=[a.pk for a in moving]).update(owner=to, updated_at=now)
    AccountEvent.objects.bulk_create(events, batch_size=500)
    for account in moving:
        account.owner = to
    contact_sync_record_many(moving)
    return len(moving)


def portfolio_reassign(*, from_owner: User, to: User, by: User, reason: str = "") -> int:
    """Move a whole portfolio (a specialist leaving or going on leave) in one step."""
    if from_owner == to:
        raise ValidationError({"to": "Choose a different specialist to take the portfolio over."})
    return accounts_reassign(accounts=Account.objects.filter(owner=from_owner), to=to, by=by, reason=reason)


def tiers_ensure_defaults() -> None:
    """Create the default tiers when none exist (after a flush, for example). Idempotent."""
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
