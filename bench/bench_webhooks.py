"""The Intercom webhook (issue: inbound webhooks).

`make bench` (bench/run.py) calls `run(report)`: in-process figures, through Django's test client
and the whole middleware stack, on SQLite and PostgreSQL: the view's latency for signed
notifications (store + enqueue, the part Intercom waits for) and the processing rate of the task
(conversation mirror, contact mapping).

The load test the issue sets its target on (gunicorn with 2 workers, PostgreSQL, the worker
cluster running, wrk at concurrency 8: ≥ 300 requests/s with p99 ≤ 50 ms, every event stored
once and processed) needs real processes, so it is not a `run(report)` here: it lives in
scripts/bench_webhooks.sh (the cluster at the web workers' CPU priority), which calls this
module's command line to check the database afterwards:

    python bench/bench_webhooks.py verify --generated N --accepted M [--timeout 600]

waits until the queue is drained and exits non-zero unless every acknowledged notification is
stored exactly once and processed.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from pathlib import Path

SECRET = "bench-secret"
NOTIFICATIONS = int(os.environ.get("BENCH_WEBHOOK_NOTIFICATIONS", "2000"))
URL = "/integrations/intercom/webhook/"
T0 = 1_750_000_000


def notification(n: int) -> bytes:
    conversation = {
        "type": "conversation",
        "id": str(100_000_000 + n // 4),
        "created_at": T0,
        "updated_at": T0 + n,
        "waiting_since": T0 + n,
        "source": {
            "type": "conversation",
            "id": str(n),
            "delivered_as": "customer_initiated",
            "body": "<p>My withdrawal is still pending.</p>",
            "author": {"type": "user", "id": f"c{n // 4}", "email": f"t{n // 4}@example.com"},
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": f"c{n // 4}", "external_id": f"bench-{n // 4}"}],
        },
        "admin_assignee_id": 0,
        "team_assignee_id": 0,
        "open": True,
        "state": "open",
        "priority": "none",
        "statistics": {"type": "conversation_statistics", "last_contact_reply_at": T0 + n},
        "tags": {"type": "tag.list", "tags": []},
    }
    return json.dumps(
        {
            "type": "notification_event",
            "app_id": "benchapp",
            "id": f"notif_inprocess_{n}",
            "topic": "conversation.user.replied",
            "created_at": T0 + n,
            "delivery_attempts": 1,
            "data": {"type": "notification_event_data", "item": conversation},
        }
    ).encode()


def run(report):
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django_q.models import OrmQ

    from bench.timing import summary
    from integrations.intercom.processing import process_waiting
    from integrations.models import WebhookEvent

    settings.INTERCOM_CLIENT_SECRET = SECRET
    client = Client()
    bodies = [notification(n) for n in range(NOTIFICATIONS)]
    signatures = ["sha1=" + hmac.new(SECRET.encode(), b, hashlib.sha1).hexdigest() for b in bodies]

    def deliver(i: int):
        return client.generic(
            "POST", URL, bodies[i], content_type="application/json", HTTP_X_HUB_SIGNATURE=signatures[i]
        )

    samples = []
    for i in range(NOTIFICATIONS):
        started = time.perf_counter()
        response = deliver(i)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    samples.sort()
    stats = {
        "median_ms": round(samples[len(samples) // 2], 2),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 2),
        "max_ms": round(samples[-1], 2),
        "n": len(samples),
    }
    report.figure("view: signed notification stored + queued", summary(stats))
    started = time.perf_counter()
    for i in range(0, NOTIFICATIONS, 10):
        assert deliver(i).json()["status"] == "duplicate"
    duplicates = NOTIFICATIONS // 10 or 1
    report.figure(
        "view: repeated delivery (duplicate)",
        f"{(time.perf_counter() - started) * 1000 / duplicates:.2f}",
        "ms each",
    )

    ids = list(
        WebhookEvent.objects.filter(notification_id__startswith="notif_inprocess_").values_list(
            "pk", flat=True
        )
    )
    started = time.perf_counter()
    process_waiting(budget_seconds=3600)  # what the drain task queued by the view runs
    elapsed = time.perf_counter() - started
    report.figure(
        "task: notifications processed", f"{len(ids)} in {elapsed:.2f} s ({len(ids) / elapsed:.0f}/s)"
    )
    statuses = dict(
        WebhookEvent.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("pk")).order_by()
    )
    report.figure("task: statuses", statuses)
    OrmQ.objects.all().delete()  # the queued tasks were run directly above


def verify(generated: int, accepted: int, timeout: float, connections: int) -> int:
    """Wait for the queue to drain, then check the stored events against what wrk sent."""
    from django.db.models import Count
    from django_q.models import OrmQ

    from integrations.models import WebhookEvent

    started = time.monotonic()
    while True:
        waiting = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).count()
        queued = OrmQ.objects.count()
        if (not waiting and not queued) or time.monotonic() - started > timeout:
            break
        time.sleep(0.5)
    drained = time.monotonic() - started
    stored = WebhookEvent.objects.count()
    distinct = WebhookEvent.objects.values("notification_id").distinct().count()
    statuses = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("pk")).order_by())
    processed = statuses.get(WebhookEvent.Status.PROCESSED, 0)
    print(
        f"queue drained after load:      {drained:.1f} s (still waiting: {waiting} events, {queued} queue entries)"
    )
    print(f"bodies built by wrk:           {generated}")
    print(f"answered 200 accepted:         {accepted}")
    print(f"stored WebhookEvent rows:      {stored} ({distinct} distinct ids)")
    print(f"statuses:                      {statuses}")
    # wrk stops mid-flight: up to one request per connection was sent but not answered, or built
    # and not sent. Every acknowledged body must be stored, nothing stored twice, all processed.
    problems = []
    if stored != distinct:
        problems.append("a notification id is stored twice")
    if not accepted <= stored <= generated:
        problems.append(f"stored {stored} outside [{accepted} accepted, {generated} built]")
    if generated - stored > connections:
        problems.append(
            f"{generated - stored} built bodies are not stored (more than {connections} in flight)"
        )
    if processed != stored:
        problems.append(f"{stored - processed} stored events are not processed: {statuses}")
    if problems:
        print("CHECK FAILED: " + "; ".join(problems))
        return 1
    print("check: every acknowledged notification stored exactly once and processed: OK")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify")
    check.add_argument("--generated", type=int, required=True)
    check.add_argument("--accepted", type=int, required=True)
    check.add_argument("--connections", type=int, default=8)
    check.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    return verify(args.generated, args.accepted, args.timeout, args.connections)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
