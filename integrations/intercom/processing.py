"""What a stored webhook notification does (run by the task `intercom_process_webhooks`, which
drains every notification waiting; the webhook view queues it through `request_webhook_drain`).

Idempotent: the event row is locked and skipped unless it is still "received", so a task run
twice (a redelivered queue entry, or a second worker) processes the notification once. No
exception escapes: junk in the notification (a ValueError from parsing) and unexpected errors
alike end as status "failed" with the error, and the work done before it is rolled back.
"""

import datetime as dt
import logging
import time

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.intercom.topics import CONTACT_TOPICS, Ignored, register_topic_handler, topic_handler
from integrations.models import DrainRequest, IntercomContact, WebhookEvent
from portal.db import sole_run

logger = logging.getLogger(__name__)


def _item(payload: dict) -> dict:
    data = payload.get("data")
    item = data.get("item") if isinstance(data, dict) else None
    if not isinstance(item, dict):
        raise ValueError("The notification has no data.item object.")
    return item


def _contact(item: dict) -> str:
    """Record external_id → intercom_id so the sender updates the contact without looking it
    up. A mapping of that Intercom contact to another external id is left alone."""
    if item.get("type") not in (None, "contact") or not item.get("id"):
        raise ValueError("Not an Intercom contact object.")
    external_id = str(item.get("external_id") or "")
    intercom_id = str(item["id"])
    if not external_id:
        raise Ignored("the contact has no external_id")
    if len(external_id) > 120 or len(intercom_id) > 40:
        raise ValueError("The contact's external_id or id is too long.")
    other = IntercomContact.objects.filter(intercom_id=intercom_id).exclude(external_id=external_id).first()
    if other is not None:
        raise Ignored(f"Intercom contact {intercom_id} is mapped to external id {other.external_id}")
    now = timezone.now()
    link = IntercomContact.objects.select_for_update().filter(external_id=external_id).first()
    if link is None:
        try:
            with transaction.atomic():
                IntercomContact.objects.create(
                    external_id=external_id, intercom_id=intercom_id, synced_at=now
                )
        except IntegrityError:  # the sender (or another event) stored a mapping meanwhile
            raise Ignored("a mapping for this contact was stored meanwhile") from None
    elif link.intercom_id != intercom_id:
        # The external id now lives on another contact (a merge, or one recreated in Intercom):
        # the tier tag was on the old one, so the sender applies it again.
        link.intercom_id, link.tier_tag_id, link.synced_at = intercom_id, "", now
        link.save(update_fields=["intercom_id", "tier_tag_id", "synced_at"])
    else:
        link.synced_at = now
        link.save(update_fields=["synced_at"])
    return ""


# The contact link is integrations' own table, so its topics are handled here; the other apps
# register theirs from their AppConfig.ready() (see topics.py).
register_topic_handler(CONTACT_TOPICS, _contact)


def _dispatch(topic: str, payload: dict) -> str:
    """Do what the topic asks; returns a note for the event's `error` field (empty when none)."""
    handler = topic_handler(topic)
    if handler is None:
        raise Ignored("topic not handled")
    return handler(_item(payload))


def process_event(event_id: int, *, skip_locked: bool = False) -> str:
    """Process one stored notification; returns its status afterwards ("missing" when the row
    is gone; "busy" when `skip_locked` and another worker holds it right now)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(skip_locked=skip_locked).filter(pk=event_id).first()
        if event is None:
            if skip_locked and WebhookEvent.objects.filter(pk=event_id).exists():
                return "busy"
            logger.warning("Intercom webhook event %s no longer exists", event_id)
            return "missing"
        if event.status != WebhookEvent.Status.RECEIVED:
            return event.status  # processed already: a task run twice does nothing
        try:
            with transaction.atomic():
                note = _dispatch(event.topic, event.payload)
            event.status, event.error = WebhookEvent.Status.PROCESSED, note
        except Ignored as reason:
            event.status, event.error = WebhookEvent.Status.IGNORED, str(reason)
        except ValueError as problem:
            event.status, event.error = WebhookEvent.Status.FAILED, str(problem)[:2000]
            logger.warning("Intercom webhook %s (%s) failed: %s", event.notification_id, event.topic, problem)
        except Exception as problem:
            event.status, event.error = (
                WebhookEvent.Status.FAILED,
                f"{type(problem).__name__}: {problem}"[:2000],
            )
            logger.exception("Intercom webhook %s (%s) failed", event.notification_id, event.topic)
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "processed_at"])
        return event.status


WEBHOOK_DRAIN = "intercom.webhooks"
WEBHOOK_DRAIN_TASK = "integrations.tasks.intercom_process_webhooks"
STALE_DRAIN_REQUEST = dt.timedelta(minutes=1)


def request_webhook_drain() -> bool:
    """Make sure a task will process what is stored now: queue one unless one is queued and has
    not started yet. Returns whether a task was queued. Call it once the event is committed.

    Why a flag and not a task per notification: each task is a queue row written, fetched and
    deleted and a hand-off between the cluster's processes; per notification, that overhead kept
    the load test (scripts/bench_webhooks.sh) under its target."""
    now = timezone.now()
    # A request older than a minute whose drain never started lost its task (the broker was
    # restarted, say): queue another rather than wait for the sweep. A drain queued twice is
    # harmless (the second finds the first's lock and exits).
    claimed = (
        DrainRequest.objects.filter(name=WEBHOOK_DRAIN)
        .filter(Q(queued=False) | Q(requested_at__lt=now - STALE_DRAIN_REQUEST))
        .update(queued=True, requested_at=now)
    )
    if not claimed:
        _, claimed = DrainRequest.objects.get_or_create(
            name=WEBHOOK_DRAIN, defaults={"queued": True, "requested_at": now}
        )
    if not claimed:
        return False
    try:
        async_task(WEBHOOK_DRAIN_TASK, save=False)
    except Exception:
        # The broker refused (Redis down, say): let the next notification try again rather than
        # leave the flag saying a drain is queued. What is stored waits for it or for the sweep.
        DrainRequest.objects.filter(name=WEBHOOK_DRAIN).update(queued=False)
        logger.exception("Could not queue the Intercom webhook drain; stored notifications wait")
        return False
    return True


def process_waiting(*, batch: int = 200, budget_seconds: float = 60.0, older_than=None) -> dict:
    """Process the notifications still "received", oldest first, until none is left or the
    time budget is spent. One drain works at a time (on PostgreSQL a session advisory lock; on
    SQLite writes queue anyway): a second one exits at once, and the running one, once it has
    let go, requests another drain if anything waits — so a burst takes one worker's CPU and
    leaves the rest to the web processes, and a task never runs into the cluster's timeout.
    `older_than` limits it to events received before that time (the sweep's safety net)."""
    DrainRequest.objects.filter(name=WEBHOOK_DRAIN, queued=True).update(queued=False)
    with _sole_drain() as sole:
        if not sole:
            return {"another drain is running": 1}
        counts = _drain(batch=batch, deadline=time.monotonic() + budget_seconds, older_than=older_than)
    # Let go first, then look: what arrived after the last read (or was left at the deadline)
    # gets a drain of its own, even if a drain that found the lock taken has already given up.
    if WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists():
        request_webhook_drain()
    return counts


def _drain(*, batch: int, deadline: float, older_than) -> dict:
    counts: dict[str, int] = {}
    passed_over: set[int] = set()  # held by another worker (a single-event task), or gone
    while True:
        waiting = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
        if older_than is not None:
            waiting = waiting.filter(received_at__lt=older_than)
        if passed_over:
            waiting = waiting.exclude(pk__in=passed_over)
        ids = list(waiting.order_by("received_at", "pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return counts
        for event_id in ids:
            status = process_event(event_id, skip_locked=True)
            counts[status] = counts.get(status, 0) + 1
            if status in ("busy", "missing"):
                passed_over.add(event_id)
            if time.monotonic() > deadline:
                return counts


# Any fixed 64-bit number, the same in every process: the key of the drain's advisory lock.
_DRAIN_LOCK_KEY = 7_304_215_470_001


def _sole_drain():
    """Whether this process may drain now (see portal.db.sole_run)."""
    return sole_run(_DRAIN_LOCK_KEY)
