"""Background tasks that keep Intercom in step with the portal (django-q2)."""

import logging

from integrations.intercom.processing import process_event
from integrations.intercom.sender import drain

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
        "calls": report.calls,
        "seconds": report.seconds,
    }


def intercom_process_webhook(event_id: int) -> str:
    """Process one stored Intercom webhook notification (queued by the webhook view).
    Idempotent: an event already processed is left as it is. Returns the event's status."""
    return process_event(event_id)


def intercom_reprocess_stale_webhooks() -> int:
    """Process notifications stored but never processed (their task was lost, say in a crash
    between storing and queueing; Intercom's retry is answered as a duplicate). Idempotent."""
    import datetime as dt

    from django.utils import timezone

    from integrations.models import WebhookEvent

    stale = WebhookEvent.objects.filter(
        status="received", received_at__lt=timezone.now() - dt.timedelta(minutes=5)
    ).values_list("pk", flat=True)[:5000]
    count = 0
    for event_id in stale:
        process_event(event_id)
        count += 1
    return count
