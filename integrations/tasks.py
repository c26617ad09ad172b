"""Background tasks that keep Intercom in step with the portal (django-q2)."""

import logging

from integrations.intercom.processing import process_event, process_waiting
from integrations.intercom.sender import drain
from integrations.models import WebhookEvent

logger = logging.getLogger(__name__)


def intercom_drain_outbox() -> dict:
    """Deliver what the outbox holds. Idempotent: a second run with nothing due makes no call."""
    report = drain()
    if report.errors:
        logger.warning("Intercom sync: %s problem(s); first: %s", len(report.errors), report.errors[0])
    return {
        "delivered": report.delivered,
        "unchanged": report.skipped_unchanged,
        "superseded": report.superseded,
        "failed": report.failed,
        "dead": report.dead,
        "lease_lost": report.lease_lost,
        "calls": report.calls,
        "seconds": report.seconds,
    }


def intercom_process_webhooks() -> dict:
    """Process every stored notification still waiting (queued by the webhook view through
    `request_webhook_drain`). Idempotent: what another run processed is left alone."""
    return process_waiting()


def intercom_process_webhook(event_id: int) -> str:
    """Process one stored notification. Kept for tasks queued before the drain existed."""
    return process_event(event_id)


def intercom_reprocess_stale_webhooks() -> int:
    """Process notifications stored over 5 minutes ago but never processed (their task was
    lost, say in a crash between storing and queueing; Intercom's retry is answered as a
    duplicate). Also clears a drain request whose task never ran. Idempotent."""
    import datetime as dt

    from django.utils import timezone

    # Afterwards it requests a drain for whatever still waits: the newer ones' drain may be the
    # task that was lost.
    counts = process_waiting(older_than=timezone.now() - dt.timedelta(minutes=5))
    return sum(n for status, n in counts.items() if status in WebhookEvent.Status.values)
