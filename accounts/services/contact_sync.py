"""What Intercom keeps about an advanced user, and the outbox jobs that send it. Every write that
changes a synced field (owner, tier, next due, health, status) records one of these jobs in its
own transaction; the sender delivers the latest payload per account."""

from collections.abc import Iterable

from accounts.models import Account
from integrations.models import SyncJob
from integrations.outbox import outbox_record, outbox_record_many

BATCH = 1000


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


def contact_sync_record(account: Account) -> None:
    """Queue this account's contact update (its tier and owner loaded)."""
    outbox_record(
        kind=SyncJob.Kind.CONTACT_UPSERT, key=f"account:{account.pk}", payload=contact_payload(account)
    )


def contact_sync_record_many(accounts: Iterable[Account]) -> None:
    """Queue contact updates for accounts already loaded with their tier and owner, in one write."""
    outbox_record_many(
        kind=SyncJob.Kind.CONTACT_UPSERT, payloads={f"account:{a.pk}": contact_payload(a) for a in accounts}
    )


def contact_sync_record_for_ids(account_ids: list[int]) -> None:
    """Queue contact updates for these accounts, loading them in batches (bulk passes)."""
    for start in range(0, len(account_ids), BATCH):
        accounts = Account.objects.select_related("tier", "owner").filter(
            pk__in=account_ids[start : start + BATCH]
        )
        contact_sync_record_many(accounts)
