"""What /healthz reports.

The load balancer's probe (`GET /healthz`, anonymous, every few seconds) gets `probe_report()`:
one `SELECT 1` and the version. The detail — is the task queue keeping up, is the Intercom outbox
draining — costs a few count queries and is answered by `health_report()` to `/healthz?detail`
for Admins and for monitoring that presents HEALTHZ_TOKEN (see portal/views.py).

Portal is the floor, so what other apps add to the detail (the Intercom outbox) is registered
with `register_health_check()` from their `AppConfig.ready()`.
"""

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthCheck:
    """One section of /healthz?detail, under `key`. `check` runs when the database answers and
    catches its own DatabaseError (a few queries at most); `without_database` is what the section
    says when the database does not, and runs none."""

    key: str
    check: Callable[[], dict]
    without_database: Callable[[], dict] = dict
    order: int = 100


_REPORT_KEYS = frozenset({"status", "version", "time", "database", "broker", "queue", "migrations", "cache"})
_checks: dict[str, HealthCheck] = {}


def bearer_token_matches(request, token: str) -> bool:
    """The request presents `Authorization: Bearer <token>` (compared in constant time); never
    when `token` is empty. How monitoring reads /healthz?detail and /metrics."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    )


def register_health_check(check: HealthCheck) -> None:
    if check.key in _REPORT_KEYS:
        raise ImproperlyConfigured(f"/healthz already reports {check.key!r}; pick another key.")
    _checks[check.key] = check


def database_status() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Health check: database unreachable: %s", error)
        return {"ok": False, "error": error.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def queue_status() -> dict:
    """Pending tasks and the age of the oldest one.

    With the ORM broker a queued row's `lock` is its enqueue time until a worker claims it
    (claiming pushes `lock` into the future), so the oldest pending task is min(lock) <= now.
    """
    if "orm" not in settings.Q_CLUSTER:
        return _redis_queue_status()
    from django_q.models import OrmQ

    now = timezone.now()
    try:
        pending = OrmQ.objects.filter(key=settings.Q_CLUSTER["name"], lock__lte=now)
        oldest = pending.aggregate(oldest=Min("lock"))["oldest"]
        count = pending.count()
    except DatabaseError as error:
        return {"ok": False, "broker": "orm", "error": error.__class__.__name__}
    age = round((now - oldest).total_seconds(), 1) if oldest else None
    return {"ok": True, "broker": "orm", "pending": count, "oldest_pending_age_seconds": age}


def _redis_queue_status() -> dict:
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    try:
        broker = get_broker()
        count = broker.queue_size()
        head = broker.connection.lindex(broker.list_key, 0)
    except Exception as error:  # the broker library raises its own connection errors
        return {"ok": False, "broker": "redis", "error": error.__class__.__name__}
    age = None
    if head:
        started = SignedPackage.loads(head).get("started")
        if started:
            age = round((timezone.now() - started).total_seconds(), 1)
    return {"ok": True, "broker": "redis", "pending": count, "oldest_pending_age_seconds": age}


_redis = None


def broker_status() -> dict:
    """Can this process reach the task broker: a Redis PING (a second at most) when the broker is
    Redis; with the ORM broker the database is the broker, and its check says it."""
    if "orm" in settings.Q_CLUSTER:
        return {"ok": True, "broker": "orm"}
    global _redis
    import redis

    started = time.perf_counter()
    try:
        if _redis is None:
            _redis = redis.Redis.from_url(
                settings.Q_CLUSTER["redis"], socket_connect_timeout=1, socket_timeout=1
            )
        _redis.ping()
    except (redis.RedisError, OSError) as error:
        logger.warning("Health check: Redis unreachable: %s", error)
        return {"ok": False, "broker": "redis", "error": error.__class__.__name__}
    return {"ok": True, "broker": "redis", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def probe_report() -> tuple[dict, int]:
    """Is this web process up and can it reach the database (one query) and the task broker (a
    Redis PING when it is Redis): 503 when either is down, so the load balancer takes it out."""
    database, broker = database_status(), broker_status()
    up = database["ok"] and broker["ok"]
    body = {
        "status": "ok" if up else "down",
        "version": settings.PORTAL_VERSION,
        "time": timezone.now().isoformat(),
        "database": database,
        "broker": broker,
    }
    return body, 200 if up else 503


_migrated = False


def ready_report() -> tuple[dict, int]:
    """May this process take traffic: the probe's checks, every migration applied (read once per
    process until true: a node started before `migrate` ran is not ready) and the cache answering.
    For a deploy's readiness gate; 503 until all hold."""
    body, status = probe_report()
    body["migrations"] = _migrations_status() if body["database"]["ok"] else {"ok": False}
    body["cache"] = _cache_status()
    ready = status == 200 and body["migrations"]["ok"] and body["cache"]["ok"]
    body["status"] = "ready" if ready else "not ready"
    return body, 200 if ready else 503


def _migrations_status() -> dict:
    global _migrated
    if _migrated:
        return {"ok": True}
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return {"ok": False, "error": error.__class__.__name__}
    _migrated = not waiting
    return {"ok": _migrated, "unapplied": len(waiting)}


def _cache_status() -> dict:
    from django.core.cache import cache

    try:
        cache.set("healthz:ready", "1", 10)
        ok = cache.get("healthz:ready") == "1"
    except Exception as error:  # any backend's own connection errors
        return {"ok": False, "error": error.__class__.__name__}
    return {"ok": ok}


COUNTS_CACHE_KEY = "healthz:counts"


def health_report() -> tuple[dict, int]:
    """The probe's answer plus the task queue and the registered checks (the Intercom outbox,
    webhooks, SLA clocks, pages): a few count queries, kept in the cache for
    HEALTHZ_DETAIL_CACHE_SECONDS (10 by default; 0: counted every time), so that several
    monitors and Prometheus scraping /metrics count once per period whatever their number;
    `counted_at` says when. The database check itself is always live."""
    database = database_status()
    if database["ok"]:
        sections = _cached_counts()
    else:
        queue = queue_status() if "orm" not in settings.Q_CLUSTER else {"ok": False}
        sections = {"queue": queue}
        for check in sorted(_checks.values(), key=lambda c: (c.order, c.key)):
            sections[check.key] = check.without_database()
    queue_ok = sections["queue"]["ok"]
    status = "ok" if database["ok"] and queue_ok else ("degraded" if database["ok"] else "down")
    body = {
        "status": status,
        "version": settings.PORTAL_VERSION,
        "time": timezone.now().isoformat(),
        "database": database,
        **sections,
    }
    return body, 200 if database["ok"] else 503


def _cached_counts() -> dict:
    from django.core.cache import cache

    seconds = settings.HEALTHZ_DETAIL_CACHE_SECONDS
    sections = cache.get(COUNTS_CACHE_KEY) if seconds else None
    if sections is None:
        sections = {"queue": queue_status()}
        for check in sorted(_checks.values(), key=lambda c: (c.order, c.key)):
            sections[check.key] = check.check()
        sections["counted_at"] = timezone.now().isoformat()
        if seconds:
            cache.set(COUNTS_CACHE_KEY, sections, seconds)
    return sections
