"""The outbox: the one way domain services tell Intercom about a change.

Services call `outbox_record()` inside their own transaction; a worker (the Intercom issue's
sender) drains pending jobs. Rules:
- pending jobs with the same kind and key coalesce: the newest payload replaces the older one;
- a payload identical to the last one delivered for that kind and key records nothing.
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from integrations.models import SyncJob
from portal.db import bulk_update_rows


def payload_hash(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def outbox_record(*, kind: str, key: str, payload: dict) -> SyncJob | None:
    """Record that Intercom must learn `payload` for (kind, key).

    Returns the pending job now carrying the payload, or None when the payload equals the last
    delivered one and nothing is pending. Must run inside the caller's transaction.
    """
    return outbox_record_many(kind=kind, payloads={key: payload}).get(key)


CHUNK = 1000  # keys per query, well under SQLite's limit on bound parameters


def outbox_record_many(*, kind: str, payloads: dict[str, dict]) -> dict[str, SyncJob]:
    """`outbox_record` for many keys of one kind at once, in a few queries per 1,000 keys."""
    recorded: dict[str, SyncJob] = {}
    keys = list(payloads)
    for start in range(0, len(keys), CHUNK):
        chunk = {key: payloads[key] for key in keys[start : start + CHUNK]}
        recorded.update(_record_chunk(kind, chunk))
    return recorded


def _record_chunk(kind: str, payloads: dict[str, dict]) -> dict[str, SyncJob]:
    now = timezone.now()
    hashes = {key: payload_hash(payload) for key, payload in payloads.items()}
    with transaction.atomic():
        pending = {
            job.key: job
            for job in SyncJob.objects.select_for_update().filter(
                kind=kind, key__in=list(payloads), status=SyncJob.Status.PENDING
            )
        }
        delivered = _last_delivered_hashes(kind, [k for k in payloads if k not in pending])
        to_update, to_create = [], []
        for key, payload in payloads.items():
            if key in pending:
                job = pending[key]
                job.payload, job.payload_hash, job.updated_at = payload, hashes[key], now
                job.contact_key = _contact_key(payload)
                to_update.append(job)
            elif hashes[key] != delivered.get(key, ""):
                to_create.append(
                    SyncJob(
                        kind=kind,
                        key=key,
                        payload=payload,
                        payload_hash=hashes[key],
                        last_delivered_hash=delivered.get(key, ""),
                        contact_key=_contact_key(payload),
                    )
                )
        bulk_update_rows(
            SyncJob,
            ["payload", "payload_hash", "updated_at", "contact_key"],
            ((j.payload, j.payload_hash, now, j.contact_key, j.pk) for j in to_update),
        )
        SyncJob.objects.bulk_create(to_create, batch_size=500)
    return {job.key: job for job in [*to_update, *to_create]}


def _contact_key(payload: dict) -> str:
    """The Intercom contact a job is about (its external id), so the sender keeps its jobs in order."""
    return str(payload.get("external_id") or "")[:120]


def _last_delivered_hashes(kind: str, keys: list[str]) -> dict[str, str]:
    """The hash Intercom last acknowledged per key (from the newest finished job)."""
    found: dict[str, str] = {}
    if not keys:
        return found
    rows = (
        SyncJob.objects.filter(kind=kind, key__in=keys, status=SyncJob.Status.DONE)
        .order_by("key", "-updated_at", "-pk")
        .values_list("key", "last_delivered_hash")
    )
    for key, delivered_hash in rows:
        found.setdefault(key, delivered_hash)
    return found


def outbox_mark_delivered(job: SyncJob, *, note: str = "") -> None:
    """What the sender calls once Intercom acknowledged `job` (or when nothing had changed, or
    a newer change superseded it: `note` says so). One write; the lease and retry state clear."""
    job.status = SyncJob.Status.DONE
    job.last_delivered_hash = job.payload_hash
    job.last_error = note
    job.claimed_at = job.failing_since = job.next_attempt_at = None
    job.save(
        update_fields=[
            "status",
            "last_delivered_hash",
            "last_error",
            "claimed_at",
            "failing_since",
            "next_attempt_at",
            "updated_at",
        ]
    )
