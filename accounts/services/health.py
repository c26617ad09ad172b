"""Account health scores: the bulk rescoring pass and the two ways to ask for it.

Other apps whose data weighs on health (disputes, conversation ratings) call
`health_refresh_soon`, and wrap bulk writes in `health_refresh_deferred` so the accounts they
touch are scored together once at the end. The scoring rules live in `accounts.health`."""

import datetime as dt
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction
from django.utils import timezone

from accounts.health import account_facts, compute_health
from accounts.models import Account, HealthSnapshot
from accounts.services.contact_sync import contact_sync_record_for_ids
from portal.db import bulk_update_rows

# The account fields health is computed from: changing one of them rescores the account.
HEALTH_INPUTS = {"tier", "cadence_override_days", "status", "volume_30d_usd", "volume_prior_30d_usd"}

_deferred_health: ContextVar[set[int] | None] = ContextVar("deferred_health", default=None)


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
    contact_sync_record_for_ids(changed)
    return len(changed)


@contextmanager
def health_refresh_deferred():
    """Within this block, accounts whose health must be recomputed are collected and scored
    together on the way out (one bulk pass instead of one per account: imports use it)."""
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


def health_refresh_soon(*, account_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Rescore these accounts now, or at the end of the surrounding `health_refresh_deferred`
    block (for other apps whose data weighs on health: disputes, conversation ratings).

    `now` is the time they are scored at when scored right away (demo seeding passes its
    simulated clock); accounts collected by a deferred block are scored at the block's end."""
    pending = _deferred_health.get()
    if pending is not None:
        pending.update(account_ids)
        return
    health_refresh(account_ids=list(account_ids), now=now)


def health_refresh_account(account: Account) -> None:
    """Rescore one account after a write to it, and reload its health fields; inside a
    `health_refresh_deferred` block it is only collected for the block's pass."""
    pending = _deferred_health.get()
    if pending is not None:
        pending.add(account.pk)
        return
    health_refresh(account_ids=[account.pk])
    account.refresh_from_db(fields=["health_score", "health_components", "health_updated_at"])
