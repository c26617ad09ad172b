"""What the portal shows about Intercom sync: the outbox's state, for the sync page, the Admin
banner, /healthz and an account's page. Every function runs a fixed number of queries, however
many jobs the outbox holds."""

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, F, Min, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from integrations.models import SyncJob

Status = SyncJob.Status
DEAD_LIST_LIMIT = 50
# Jobs that have not reached Intercom yet and still will (the sender's queue).
WAITING = (Status.PENDING, Status.RUNNING, Status.FAILED)
COUNTED = (Status.PENDING, Status.RUNNING, Status.FAILED, Status.DEAD)
ERRORED = (Status.FAILED, Status.DEAD)


def sync_counts() -> dict:
    """Jobs per status (all but done, which only grows) and the age of the oldest job still to
    be sent (pending or failed, by when it was recorded): one query."""
    now = timezone.now()
    row = SyncJob.objects.filter(status__in=COUNTED).aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in COUNTED},
        oldest=Min("created_at", filter=Q(status__in=[Status.PENDING, Status.FAILED])),
    )
    oldest = row.pop("oldest")
    row["oldest_pending_age_seconds"] = round((now - oldest).total_seconds(), 1) if oldest else None
    return row


def intercom_health() -> dict:
    """The Intercom section of /healthz?detail: whether Intercom is connected, and the outbox:
    jobs waiting, failing (retrying) and dead, and the age of the oldest one still to be sent
    (one query)."""
    enabled = settings.INTERCOM_ENABLED
    try:
        counts = sync_counts()
    except DatabaseError as error:
        return {"enabled": enabled, "error": error.__class__.__name__}
    return {
        "enabled": enabled,
        "pending": counts["pending"],
        "failed": counts["failed"],
        "dead": counts["dead"],
        "oldest_pending_age_seconds": counts["oldest_pending_age_seconds"],
    }


def intercom_health_without_database() -> dict:
    return {"enabled": settings.INTERCOM_ENABLED}


def sync_overview() -> dict:
    """Everything the sync page shows, in three queries."""
    counts = sync_counts()
    newest_errors = (
        SyncJob.objects.filter(status__in=ERRORED)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("kind")],
                order_by=[F("updated_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank=1)
        .order_by("kind")
        .values_list("kind", "last_error", "updated_at")
    )
    dead_jobs = list(
        SyncJob.objects.filter(status=Status.DEAD)
        .defer("payload", "payload_hash", "last_delivered_hash")
        .order_by("-updated_at", "-pk")[:DEAD_LIST_LIMIT]
    )
    return {
        "counts": {status.value: counts[status.value] for status in COUNTED},
        "oldest_pending_age_seconds": counts["oldest_pending_age_seconds"],
        "oldest_pending_age": human_duration(counts["oldest_pending_age_seconds"]),
        "last_error_by_kind": {kind: (error, at) for kind, error, at in newest_errors},
        "dead_jobs": dead_jobs,
        "dead_jobs_shown_all": counts[Status.DEAD.value] <= len(dead_jobs),
    }


def dead_job_count() -> int:
    """Jobs whose retry budget is spent (one COUNT, on the status index)."""
    return SyncJob.objects.filter(status=Status.DEAD).count()


def account_keys(account) -> list[str]:
    """The outbox keys of an account's own contact changes."""
    return [f"account:{account.pk}", f"account:{account.pk}:disputes"]


def account_sync_state(account) -> dict:
    """Where the account's Intercom contact stands, from the newest job of each (kind, key)
    about it: its own keys, and notes addressed to its contact. One query.

    state: "in_sync" (everything delivered), "waiting" (something pending, being sent or
    retrying), "dead" (a change gave up) or "never" (nothing recorded yet).
    """
    about = Q(key__in=account_keys(account))
    if account.external_id:
        about |= Q(contact_key=account.external_id)
    newest = list(
        SyncJob.objects.filter(about)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("kind"), F("key")],
                order_by=[F("pk").desc()],
            )
        )
        .filter(rank=1)
        .values_list("status", "updated_at", "last_error")
    )
    waiting, dead, delivered_at = 0, 0, None
    last_error, last_error_at = "", None
    for status, updated_at, error in newest:
        if status in WAITING:
            waiting += 1
        elif status == Status.DEAD:
            dead += 1
        # A done job with a note was superseded by a newer change, not delivered.
        elif status == Status.DONE and not error and (delivered_at is None or updated_at > delivered_at):
            delivered_at = updated_at
        if status in ERRORED and error and (last_error_at is None or updated_at > last_error_at):
            last_error, last_error_at = error, updated_at
    if dead:
        state = "dead"
    elif waiting:
        state = "waiting"
    elif newest:
        state = "in_sync"
    else:
        state = "never"
    return {
        "enabled": settings.INTERCOM_ENABLED,
        "state": state,
        "pending": waiting,
        "dead": dead,
        "last_delivered_at": delivered_at,
        "last_error": last_error,
    }


def human_duration(seconds: float | None) -> str:
    """3 h 12 min, 45 s, 2 d 4 h; "" for None."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"
