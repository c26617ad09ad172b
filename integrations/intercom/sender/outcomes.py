"""Outcomes of a delivery: done, failed with backoff (dead after 24 hours), or held behind a failure."""

import datetime as dt
import random
from dataclasses import dataclass, field

from django.utils import timezone

from integrations.intercom.errors import IntercomError
from integrations.intercom.sender.delivery import Sender
from integrations.models import SyncJob
from integrations.outbox import outbox_mark_delivered

DEAD_AFTER = dt.timedelta(hours=24)
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)


@dataclass
class DrainReport:
    delivered: int = 0
    skipped_unchanged: int = 0
    superseded: int = 0
    failed: int = 0
    dead: int = 0
    lease_lost: int = 0  # contacts another worker took over before this one reached them
    calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _fail(job: SyncJob, error: Exception, now, report: DrainReport) -> None:
    job.failing_since = job.failing_since or now
    job.last_error = str(error)[:2000]
    job.claimed_at = None
    if now - job.failing_since >= DEAD_AFTER:
        job.status = SyncJob.Status.DEAD
        report.dead += 1
    else:
        job.status = SyncJob.Status.FAILED
        delay = min(RETRY_CAP, RETRY_BASE * 2 ** max(0, job.attempts - 1))
        job.next_attempt_at = now + delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
        report.failed += 1
    job.save(
        update_fields=["status", "failing_since", "last_error", "claimed_at", "next_attempt_at", "updated_at"]
    )


def _hold(job: SyncJob, until, reason: str) -> None:
    """A later job of a contact whose earlier job failed: it waits for that one."""
    job.status, job.claimed_at, job.next_attempt_at = SyncJob.Status.FAILED, None, until
    job.attempts = max(0, job.attempts - 1)
    job.last_error = reason
    job.save(
        update_fields=["status", "claimed_at", "next_attempt_at", "attempts", "last_error", "updated_at"]
    )


def _done(job: SyncJob, note: str = "") -> None:
    outbox_mark_delivered(job, note=note)


def deliver_group(sender: Sender, jobs: list[SyncJob], report: DrainReport) -> None:
    """One contact's jobs, oldest first; stop at the first failure."""
    newest_of = {(j.kind, j.key): j.pk for j in jobs}
    for index, job in enumerate(jobs):
        if newest_of[(job.kind, job.key)] != job.pk:
            _done(job, "Superseded by a newer change to the same object.")
            report.superseded += 1
            continue
        if job.payload_hash == job.last_delivered_hash:
            _done(job)
            report.skipped_unchanged += 1
            continue
        try:
            sender.deliver(job)
        except (IntercomError, KeyError, ValueError) as error:
            now = timezone.now()
            _fail(job, error, now, report)
            report.errors.append(f"{job.kind} {job.key}: {error}")
            for later in jobs[index + 1 :]:
                _hold(
                    later,
                    job.next_attempt_at or now,
                    f"Waiting for an earlier change to this contact ({job.kind} {job.key}).",
                )
            return
        _done(job)
        report.delivered += 1
