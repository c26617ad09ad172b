"""The daily cadence pass: due dates, health scores with their daily history, overdue digests."""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.health import account_facts, compute_health
from accounts.models import Account, HealthSnapshot
from accounts.services.portfolio import CONTACT_SYNC_KIND, compute_next_due, contact_payload
from integrations.outbox import outbox_record_many
from portal.db import bulk_update_rows

logger = logging.getLogger(__name__)
BATCH = 1000


def _sync_contacts(account_ids: list[int]) -> None:
    for start in range(0, len(account_ids), BATCH):
        accounts = Account.objects.select_related("tier", "owner").filter(
            pk__in=account_ids[start : start + BATCH]
        )
        outbox_record_many(
            kind=CONTACT_SYNC_KIND, payloads={f"account:{a.pk}": contact_payload(a) for a in accounts}
        )


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
    _sync_contacts([a.pk for a in changed])
    return len(changed)


@transaction.atomic
def health_refresh(*, account_ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Recompute health for the given accounts (all when None), store score and components,
    and upsert today's HealthSnapshot. Safe to run any number of times a day. Returns how
    many scores changed (those are also queued for Intercom)."""
    now = now or timezone.now()
    facts = account_facts(account_ids)
    results = compute_health(facts, now)
    current = dict(Account.objects.filter(pk__in=[f.id for f in facts]).values_list("id", "health_score"))
    bulk_update_rows(
        Account,
        ["health_score", "health_components", "health_updated_at"],
        ((score, parts, now, pk) for pk, (score, parts) in results.items()),
    )
    today = now.date()
    HealthSnapshot.objects.bulk_create(
        [
            HealthSnapshot(account_id=pk, day=today, score=score)
            for pk, (score, _) in results.items()
            if score is not None
        ],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["account", "day"],
        update_fields=["score"],
    )
    changed = [pk for pk, (score, _) in results.items() if current.get(pk) != score]
    _sync_contacts(changed)
    return len(changed)


def overdue_digest_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Mail each owner one digest of their accounts that became overdue since the last digest.

    An account is in a digest once per due date: after mailing, `overdue_notified_for` is set to
    the due time it covered, so running this twice sends nothing twice. An owner whose mail fails
    is retried on the next run; the others are not mailed again.
    """
    now = now or timezone.now()
    newly_overdue = (
        Account.objects.filter(status=Account.Status.ACTIVE, next_check_in_due__lt=now)
        .filter(Q(overdue_notified_for__isnull=True) | ~Q(overdue_notified_for=F("next_check_in_due")))
        .select_related("owner", "tier")
        .order_by("owner_id", "next_check_in_due")
    )
    by_owner = defaultdict(list)
    for account in newly_overdue:
        by_owner[account.owner].append(account)
    sent = 0
    for owner, accounts in by_owner.items():
        if not owner.email:
            logger.warning(
                "Overdue digest: %s has no e-mail address; %d accounts not mailed", owner, len(accounts)
            )
            continue
        with transaction.atomic():
            marked = Account.objects.filter(pk__in=[a.pk for a in accounts]).update(
                overdue_notified_for=F("next_check_in_due")
            )
            _mail_digest(owner, accounts, now)
        sent += 1
        logger.info("Overdue digest to %s: %d accounts", owner, marked)
    return {"owners_mailed": sent, "accounts": sum(len(a) for a in by_owner.values())}


def _mail_digest(owner, accounts: list[Account], now: dt.datetime) -> None:
    context = {"owner": owner, "accounts": accounts, "now": now, "base_url": settings.PORTAL_BASE_URL}
    count = len(accounts)
    send_mail(
        subject=f"{count} account{'s' if count != 1 else ''} newly overdue for a check-in",
        message=render_to_string("accounts/email/overdue_digest.txt", context),
        from_email=None,
        recipient_list=[owner.email],
    )


def cadence_daily_pass(*, now: dt.datetime | None = None) -> dict:
    """The daily job: due dates, health with today's snapshot, and the overdue digests.
    Idempotent: a second run the same day changes and sends nothing new."""
    now = now or timezone.now()
    return {
        "due_dates_changed": due_dates_recompute(),
        "health_changed": health_refresh(now=now),
        **overdue_digest_send(now=now),
    }
