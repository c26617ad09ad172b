"""Check-ins: logging, editing and deleting them, and completing their follow-ups. Each write
keeps the account's last check-in, last contact and next due (recomputed from the check-ins
themselves), its health and its Intercom contact in step, in one transaction."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Account, AccountEvent, CheckIn
from accounts.selectors import check_in_editable_by
from accounts.services.cadence import compute_next_due
from accounts.services.contact_sync import contact_sync_record
from accounts.services.health import health_refresh_account
from accounts.services.portfolio import account_lock
from accounts.services.timeline import account_event_record
from portal.models import User

# A check-in logged "now" from a device whose clock runs slightly ahead is not in the future.
CLOCK_SKEW = dt.timedelta(minutes=2)
EARLIEST_CHECK_IN_YEAR = 2000
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
    account = account_lock(account)
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
    contact_sync_record(account)
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
    account = account_lock(check_in.account)
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
    was_at = timezone.localtime(before["occurred_at"])
    account_event_record(
        account_id=account.pk,
        kind=AccountEvent.Kind.CHECK_IN_EDITED,
        actor=by,
        summary=f"Edited the check-in of {was_at:%Y-%m-%d %H:%M} {was_at.tzname()}: {labels}"[:300],
        details={
            "check_in": check_in.pk,
            "changes": {
                name: [_describe_check_in(name, before[name]), _describe_check_in(name, merged[name])]
                for name in changed
            },
        },
    )
    _refresh_contact_times(account)
    contact_sync_record(account)
    return check_in


@transaction.atomic
def check_in_delete(*, check_in: CheckIn, by: User) -> None:
    """Delete a check-in (logged by mistake); the account's dates are recomputed and the deleted
    text is kept in the timeline. Only the check-in's author, the account's owner or an Admin
    may (PermissionDenied otherwise)."""
    _require_may_change(check_in, by)
    account = account_lock(check_in.account)
    when = timezone.localtime(check_in.occurred_at)
    summary = check_in.summary
    check_in.delete()
    account_event_record(
        account_id=account.pk,
        kind=AccountEvent.Kind.CHECK_IN_DELETED,
        actor=by,
        summary=f"Deleted the check-in of {when:%Y-%m-%d %H:%M} {when.tzname()}",
        details={"deleted_summary": summary[:500]},
    )
    _refresh_contact_times(account)
    contact_sync_record(account)


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


def _refresh_contact_times(account: Account) -> None:
    """Recompute last check-in, last contact and next due from the check-ins themselves, so a
    back-dated, edited or deleted check-in leaves the account exactly right."""
    latest = account.check_ins.aggregate(latest=Max("occurred_at"))["latest"]
    account.last_check_in_at = latest
    account.last_contact_at = latest
    account.next_check_in_due = compute_next_due(account)
    account.save(update_fields=["last_check_in_at", "last_contact_at", "next_check_in_due", "updated_at"])
    health_refresh_account(account)
