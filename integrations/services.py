"""Writes people make on the outbox from the sync page: giving dead jobs another run.

A dead job is retried by setting it back to pending with a fresh retry budget, unless a newer
change for the same kind and key exists: that one carries the latest data (and only one job per
kind and key may be pending), so the dead job is closed as superseded instead of re-sending
older data over newer.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from integrations.models import SyncJob

Status = SyncJob.Status

RETRIED = "retried"
SUPERSEDED = "superseded"
NOT_DEAD = "not_dead"


@dataclass(frozen=True)
class RetryResult:
    outcome: str  # RETRIED, SUPERSEDED or NOT_DEAD
    job: SyncJob
    newer: SyncJob | None = None  # the job that superseded it


def _retried_note(by) -> str:
    return f"Retried by {by.get_username()}: "


def _newer_jobs(kind, key, pk):
    """Jobs for the same kind and key recorded after `pk`, or pending (there is at most one)."""
    return SyncJob.objects.filter(kind=kind, key=key).filter(Q(pk__gt=pk) | Q(status=Status.PENDING))


def _newest_delivered_hash():
    """Per job (as a subquery): what Intercom last acknowledged for its kind and key, from the
    newest other done job. A superseded job becomes the newest done one, so it must carry this
    hash or the outbox would compare new payloads against stale data."""
    return Subquery(
        SyncJob.objects.filter(kind=OuterRef("kind"), key=OuterRef("key"), status=Status.DONE)
        .exclude(pk=OuterRef("pk"))
        .order_by("-updated_at", "-pk")
        .values("last_delivered_hash")[:1]
    )


@transaction.atomic
def sync_job_retry(*, job: SyncJob, by) -> RetryResult:
    """Give one dead job another run (or close it as superseded by a newer change)."""
    job = SyncJob.objects.select_for_update().get(pk=job.pk)
    if job.status != Status.DEAD:
        return RetryResult(NOT_DEAD, job)
    newer = _newer_jobs(job.kind, job.key, job.pk).order_by("-pk").first()
    if newer is None:
        now = timezone.now()
        try:
            with transaction.atomic():
                updated = SyncJob.objects.filter(pk=job.pk, status=Status.DEAD).update(
                    status=Status.PENDING,
                    next_attempt_at=now,
                    attempts=0,
                    failing_since=None,
                    claimed_at=None,
                    last_error=_retried_note(by) + job.last_error,
                    updated_at=now,
                )
        except IntegrityError:  # a change for this contact was recorded meanwhile
            newer = _newer_jobs(job.kind, job.key, job.pk).order_by("-pk").first()
        else:
            job.refresh_from_db()
            return RetryResult(RETRIED if updated else NOT_DEAD, job)
    _supersede(SyncJob.objects.filter(pk=job.pk), by=by, newer=newer)
    job.refresh_from_db()
    return RetryResult(SUPERSEDED, job, newer)


def _supersede(jobs, *, by, newer: SyncJob | None = None) -> int:
    which = f" (job {newer.pk})" if newer is not None else ""
    note = f"Superseded by a newer change{which}; {_retried_note(by)}"
    return jobs.update(
        status=Status.DONE,
        last_delivered_hash=Coalesce(_newest_delivered_hash(), F("last_delivered_hash")),
        last_error=Concat(Value(note), F("last_error"), output_field=TextField()),
        claimed_at=None,
        next_attempt_at=None,
        updated_at=timezone.now(),
    )


def sync_jobs_retry_dead(*, by) -> dict[str, int]:
    """Retry every dead job in a few queries: {"retried": n, "superseded": n}."""
    dead = SyncJob.objects.filter(status=Status.DEAD)
    has_newer = Exists(_newer_jobs(OuterRef("kind"), OuterRef("key"), OuterRef("pk")))
    try:
        with transaction.atomic():
            list(dead.select_for_update().values_list("pk", flat=True))
            superseded = _supersede(dead.filter(has_newer), by=by)
            now = timezone.now()
            retried = dead.update(
                status=Status.PENDING,
                next_attempt_at=now,
                attempts=0,
                failing_since=None,
                claimed_at=None,
                last_error=Concat(Value(_retried_note(by)), F("last_error"), output_field=TextField()),
                updated_at=now,
            )
    except IntegrityError:
        # A change was recorded for one of them meanwhile: one by one, each decides for itself.
        result = {RETRIED: 0, SUPERSEDED: 0}
        for job in dead.order_by("pk"):
            outcome = sync_job_retry(job=job, by=by).outcome
            if outcome in result:
                result[outcome] += 1
        return result
    return {RETRIED: retried, SUPERSEDED: superseded}
