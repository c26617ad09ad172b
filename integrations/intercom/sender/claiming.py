"""Claiming due jobs: a lease on every undelivered job of a few contacts, grouped per contact."""

import datetime as dt
from collections import Counter

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import SyncJob

# A worker renews its lease on a contact's jobs just before delivering them (`renew`), so the lease
# only has to outlast one contact's delivery: a few calls, each within the client's timeout and a
# rate-limit window's wait. Jobs a dead worker held are taken over after it.
LEASE = dt.timedelta(minutes=2)
CONTACTS_PER_CLAIM = 50
UNDELIVERED = (SyncJob.Status.PENDING, SyncJob.Status.FAILED, SyncJob.Status.RUNNING)


def _due_q(now) -> Q:
    return (
        Q(status__in=[SyncJob.Status.PENDING, SyncJob.Status.FAILED])
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ) | Q(status=SyncJob.Status.RUNNING, claimed_at__lt=now - LEASE)


def _is_due(job: SyncJob, now) -> bool:
    if job.status == SyncJob.Status.RUNNING:
        return job.claimed_at is None or job.claimed_at < now - LEASE
    return job.next_attempt_at is None or job.next_attempt_at <= now


def _lock_whole_contacts(keys: list[str]) -> list[SyncJob]:
    """Lock every undelivered job of these contacts, leaving out a contact any of whose jobs
    another worker holds right now (its claim, or a change being recorded): that contact waits
    for a later claim, whole. Waiting for those rows instead deadlocked two claims that each
    held a job of the other's contact (found by the production rehearsal, three clusters)."""
    undelivered = SyncJob.objects.filter(contact_key__in=keys, status__in=UNDELIVERED).order_by("pk")
    if not connection.features.has_select_for_update_skip_locked:
        return list(undelivered.select_for_update())  # SQLite: one writer at a time anyway
    jobs = list(undelivered.select_for_update(skip_locked=True))
    locked = Counter(job.contact_key for job in jobs)
    total = Counter(undelivered.values_list("contact_key", flat=True))
    return [job for job in jobs if locked[job.contact_key] == total[job.contact_key]]


def claim(limit_contacts: int = CONTACTS_PER_CLAIM) -> list[list[SyncJob]]:
    """Take the undelivered jobs of up to `limit_contacts` contacts whose oldest undelivered job
    is due; returns them grouped per contact, oldest first."""
    now = timezone.now()
    with transaction.atomic():
        due = SyncJob.objects.filter(_due_q(now)).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        keys: list[str] = []
        for contact_key in due.values_list("contact_key", flat=True)[: limit_contacts * 20]:
            if contact_key not in keys:
                keys.append(contact_key)
            if len(keys) >= limit_contacts:
                break
        if not keys:
            return []
        jobs = _lock_whole_contacts(keys)
        groups: dict[str, list[SyncJob]] = {}
        for job in jobs:
            groups.setdefault(job.contact_key, []).append(job)
        claimed = []
        for key in keys:
            group = groups.get(key, [])
            if not group or not _is_due(group[0], now):
                continue  # an earlier change to this contact waits for its retry, or is in flight
            if any(j.status == SyncJob.Status.RUNNING and not _is_due(j, now) for j in group):
                continue
            for job in group:
                job.status, job.claimed_at = SyncJob.Status.RUNNING, now
                job.attempts += 1
            SyncJob.objects.filter(pk__in=[j.pk for j in group]).update(
                status=SyncJob.Status.RUNNING, claimed_at=now, attempts=F("attempts") + 1
            )
            claimed.append(group)
        return claimed


def renew(group: list[SyncJob]) -> bool:
    """Extend this worker's lease on one contact's claimed jobs just before delivering them.
    False when the lease was lost meanwhile (it ran out and another worker claimed the jobs):
    they are then that worker's to deliver, and this one leaves them alone."""
    now = timezone.now()
    renewed = SyncJob.objects.filter(
        pk__in=[j.pk for j in group], status=SyncJob.Status.RUNNING, claimed_at=group[0].claimed_at
    ).update(claimed_at=now)
    if renewed != len(group):
        return False
    for job in group:
        job.claimed_at = now
    return True
