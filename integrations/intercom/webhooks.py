"""The Intercom webhook endpoint: `POST /integrations/intercom/webhook/`.

Intercom gives an endpoint 5 seconds, retries a failed delivery once after a minute, and
disables the subscription on 410 (never sent here). So the view only checks the request, stores
the notification once (unique by its id) and answers; a task processes what waits
(integrations/intercom/processing.py).

Order of checks, cheapest first, nothing read or stored before the signature is good:

  method other than POST                     405
  no `X-Hub-Signature: sha1=…` header          401   (unsigned: refused whatever the set-up)
  INTERCOM_CLIENT_SECRET empty                 503   (never accepts what it cannot verify)
  chunked body without Content-Length          411
  Content-Length not a number                  400
  Content-Length > INTERCOM_WEBHOOK_MAX_BYTES  413   (before the body is read)
  body > DATA_UPLOAD_MAX_MEMORY_SIZE           413
  signature does not match the raw body        401
  not UTF-8 JSON object with `id` and `topic`  400
  topic `ping`                                 200 {"status": "pong"}; not stored (its id is null)
  new notification                             200 {"status": "accepted"}; stored, drain requested
  notification id already stored               200 {"status": "duplicate"}; nothing queued
"""

import datetime as dt
import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.intercom.processing import request_webhook_drain
from integrations.models import WebhookEvent

logger = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha1="


def sign(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature` value Intercom sends for `body`: HMAC-SHA1 keyed with the client secret."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    # Bytes on both sides: compare_digest refuses str with non-ASCII characters, and a header
    # is whatever the sender put in it.
    given = header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(sign(body, secret).encode("ascii"), given)


def _error(message: str, status: int, **headers) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _epoch(value) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _parse(body: bytes) -> tuple[dict | None, str]:
    """The notification, or None and why it is refused."""
    try:
        notification = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "Body is not UTF-8"
    except (ValueError, RecursionError):
        return None, "Body is not valid JSON"
    if b"\\u0000" in body:  # PostgreSQL's jsonb refuses NUL characters: drop them
        notification = _without_nul(notification)
    if not isinstance(notification, dict):
        return None, "Body is not a JSON object"
    topic = notification.get("topic")
    if not isinstance(topic, str) or not topic or len(topic) > 80:
        return None, "Notification has no valid topic"
    return notification, ""


def _notification_id(notification: dict) -> str:
    value = notification.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    value = str(value)
    return value if 0 < len(value) <= 100 else ""


@csrf_exempt
@login_not_required
def intercom_webhook(request):
    if request.method != "POST":
        return _error("Method not allowed; Intercom POSTs notifications", 405, Allow="POST")
    header = request.META.get("HTTP_X_HUB_SIGNATURE", "")
    if not header.strip().lower().startswith(SIGNATURE_PREFIX):
        return _error("Missing X-Hub-Signature", 401)
    secret = settings.INTERCOM_CLIENT_SECRET
    if not secret:
        logger.error("Intercom webhook refused: INTERCOM_CLIENT_SECRET is not set")
        return _error("Webhook secret not configured", 503)

    raw_length = request.META.get("CONTENT_LENGTH") or ""
    if not raw_length.strip():
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _error("Content-Length required", 411)
        length = 0  # no body: the signature check below refuses it
    else:
        try:
            length = int(raw_length)
        except ValueError:
            return _error("Invalid Content-Length", 400)
        if length < 0:
            return _error("Invalid Content-Length", 400)
    if length > settings.INTERCOM_WEBHOOK_MAX_BYTES:
        return _error("Notification too large", 413)
    try:
        body = request.body
    except RequestDataTooBig:  # DATA_UPLOAD_MAX_MEMORY_SIZE is lower than the webhook's limit
        return _error("Notification too large", 413)

    if not signature_valid(body, header, secret):
        return _error("Invalid signature", 401)  # logged by django.request, as every 4xx

    notification, problem = _parse(body)
    if notification is None:
        return _error(problem, 400)
    topic = notification["topic"]
    if topic == "ping":
        # Intercom's ping (the "Send test request" button) has a null id: nothing to store.
        logger.info("Intercom webhook: ping")
        return JsonResponse({"status": "pong"})
    notification_id = _notification_id(notification)
    if not notification_id:
        return _error("Notification has no valid id", 400)

    attempts = notification.get("delivery_attempts")
    try:
        # One INSERT, and the task queued only once it is committed. A retry of the same
        # notification (or two deliveries racing) hits the unique id: answered as a duplicate.
        with transaction.atomic():
            WebhookEvent.objects.create(
                notification_id=notification_id,
                topic=topic,
                app_id=str(notification.get("app_id") or "")[:100],
                created_at_intercom=_epoch(notification.get("created_at")),
                delivery_attempts=attempts if isinstance(attempts, int) and 0 < attempts < 2**31 else 1,
                payload=notification,
            )
            # Once committed, a drain task is queued unless one is waiting to start already.
            # robust: the notification is stored, so a failure to queue never turns into a 500
            # (Intercom's retry would only be answered "duplicate"); it is logged, and the sweep
            # processes what waits.
            transaction.on_commit(request_webhook_drain, robust=True)
    except IntegrityError:
        return JsonResponse({"status": "duplicate", "id": notification_id})
    return JsonResponse({"status": "accepted", "id": notification_id})
