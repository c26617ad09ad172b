"""Metrics a team's Prometheus can scrape at /metrics (prometheus_client, the maintained library):
request latency from every web process, and, read when scraped, every number of /healthz?detail
(the task queue's depth and age, the Intercom outbox, webhook lag, SLA breaches, pages sent —
what the apps register there) as gauges `portal_<section>_<field>`.

Several gunicorn processes: set PROMETHEUS_MULTIPROC_DIR to a directory they share (emptied at
each start) and the latency histogram is summed over them. /metrics answers a bearer
METRICS_TOKEN, or a client in METRICS_ALLOWED_NETWORKS (CIDRs), and nobody else."""

import ipaddress
import os
import time

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram(
    "portal_request_seconds",
    "Time to answer a web request, by view and status class.",
    ["view", "status"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "unmatched"
        REQUEST_SECONDS.labels(view=view, status=f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


class HealthCollector:
    """Every number of /healthz?detail, as gauges, read when scraped (a few count queries)."""

    def collect(self):
        from portal.health import health_report

        body, status = health_report()
        yield GaugeMetricFamily(
            "portal_up", "1 when the database (and Redis) answer.", value=int(status == 200)
        )
        for section, values in body.items():
            if not isinstance(values, dict):
                continue
            for field, value in values.items():
                if isinstance(value, bool):
                    value = int(value)
                if isinstance(value, int | float):
                    yield GaugeMetricFamily(
                        f"portal_{section}_{field}",
                        f"{section}: {field} (as in /healthz?detail)",
                        value=value,
                    )


def metrics_text() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(HealthCollector())
    return generate_latest(registry)


def may_scrape(request) -> bool:
    from portal.health import bearer_token_matches

    if bearer_token_matches(request, settings.METRICS_TOKEN):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


CONTENT_TYPE = CONTENT_TYPE_LATEST
