"""Check-in cadence: when each account is next due, and the daily pass over every account (due
dates, health scores with their daily history, overdue digests)."""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Account
from accounts.services.contact_sync import contact_sync_record_for_ids
from accounts.services.health import health_refresh
from portal.db import bulk_update_rows, sole_run

logger = logging.getLogger(__name__)


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


@transaction.atomic
def due_dates_recompute() -> int:
    """Recompute every account's next due date (an Admin may have changed a tier's cadence).
    Only accounts whose date changed are written. Returns how many changed."""
    changed = []
    rows = Account.objects.select_related("tier").only(
        "id",
        "status",
        "created_at",
        "last_check_in_at",
        "cadence_override_days",
        "snoozed_until",
        "next_check_in_due",
        "tier__default_cadence_days",
    )
    for account in rows.iterator(chunk_size=2000):
        due = compute_next_due(account)
        if due != account.next_check_in_due:
            account.next_check_in_due = due
            changed.append(account)
    bulk_update_rows(Account, ["next_check_in_due"], ((a.next_check_in_due, a.pk) for a in changed))
    contact_sync_record_for_ids([a.pk for a in changed])
    return len(changed)


def _owed_digest() -> Q:
    return Q(overdue_notified_for__isnull=True) | ~Q(overdue_notified_for=F("next_check_in_due"))


def _newly_overdue_by_owner(now: dt.datetime) -> dict:
    newly_overdue = (
        Account.objects.filter(status=Account.Status.ACTIVE, next_check_in_due__lt=now)
        .filter(_owed_digest())
        .select_related("owner", "tier")
        .order_by("owner_id", "next_check_in_due")
    )
    by_owner = defaultdict(list)
    for account in newly_overdue:
        by_owner[account.owner].append(account)
    return by_owner


def overdue_digest_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Mail each owner one digest of their accounts that became overdue since the last digest.

    An account is in a digest once per due date: after mailing, `overdue_notified_for` is set to
    the due time it covered, so running this twice sends nothing twice — also two passes at once
    (several worker clusters): each owner's accounts are locked and read again before marking,
    so the pass that comes second finds them marked and sends nothing. An owner whose mail fails
    is retried on the next run; the others are not mailed again.
    """
    now = now or timezone.now()
    by_owner = _newly_overdue_by_owner(now)
    sent = mailed_accounts = 0
    for owner, accounts in by_owner.items():
        if not owner.email:
            logger.warning(
                "Overdue digest: %s has no e-mail address; %d accounts not mailed", owner, len(accounts)
            )
            continue
        with transaction.atomic():
            still_owed = set(
                Account.objects.select_for_update()
                .filter(_owed_digest(), pk__in=[a.pk for a in accounts])
                .values_list("pk", flat=True)
            )
            accounts = [a for a in accounts if a.pk in still_owed]
            if not accounts:
                continue  # another pass mailed them meanwhile
            Account.objects.filter(pk__in=still_owed).update(overdue_notified_for=F("next_check_in_due"))
            _mail_digest(owner, accounts, now)
        sent += 1
        mailed_accounts += len(accounts)
        logger.info("Overdue digest to %s: %d accounts", owner, len(accounts))
    return {"owners_mailed": sent, "accounts": mailed_accounts}


def _mail_digest(owner, accounts: list[Account], now: dt.datetime) -> None:
    context = {"owner": owner, "accounts": accounts, "now": now, "base_url": settings.PORTAL_BASE_URL}
    count = len(accounts)
    send_mail(
        subject=f"{count} account{'s' if count != 1 else ''} newly overdue for a check-in",
        message=render_to_string("accounts/email/overdue_digest.txt", context),
        from_email=None,
        recipient_list=[owner.email],
    )


# Any fixed 64-bit number, the same in every process: the key of the daily pass's advisory lock.
_CADENCE_PASS_LOCK_KEY = 7_304_215_470_002


def cadence_daily_pass(*, now: dt.datetime | None = None) -> dict:
    """The daily job: due dates, health with today's snapshot, and the overdue digests.
    Idempotent: a second run the same day changes and sends nothing new. One pass at a time: a
    run that starts while another runs (a retry, a second cluster) leaves the work to it — two
    at once rewrote the same accounts in different orders and deadlocked."""
    now = now or timezone.now()
    with sole_run(_CADENCE_PASS_LOCK_KEY) as sole:
        if not sole:
            return {"skipped": "another cadence pass is running"}
        return {
            "due_dates_changed": due_dates_recompute(),
            "health_changed": health_refresh(now=now),
            **overdue_digest_send(now=now),
        }
