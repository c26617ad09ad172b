"""Leadership reports over a year of history: 500,000 conversations, 50,000 cases and 10,000
escalations over 12 months (`seed_demo --history-*`).

Targets (issue 17): /reports/ for the last 30 and the last 90 days ≤ 500 ms median on PostgreSQL
and ≤ 1 s on SQLite; a drill-down list ≤ 100 ms at 25 rows; the request's peak memory ≤ 200 MB.
Also printed: each family's share of the page, the Specialist's view (their figures and the
team's), the query counts, and how long a CSV export of one list takes.

BENCH_REPORTS_CONVERSATIONS / _CASES / _ESCALATIONS / _MONTHS change the size;
BENCH_REPORTS_REUSE=1 keeps a database seeded by an earlier run (with DATABASE_URL)."""

import os
import time
import tracemalloc

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.timing import measure, seed_demo, summary

CONVERSATIONS = int(os.environ.get("BENCH_REPORTS_CONVERSATIONS", "500000"))
CASES = int(os.environ.get("BENCH_REPORTS_CASES", "50000"))
ESCALATIONS = int(os.environ.get("BENCH_REPORTS_ESCALATIONS", "10000"))
MONTHS = int(os.environ.get("BENCH_REPORTS_MONTHS", "12"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
LIST_REPEAT = int(os.environ.get("BENCH_LIST_REPEAT", "20"))


def seed_reports_history(report) -> None:
    """The reports' benchmark data (unless BENCH_REPORTS_REUSE keeps an earlier run's)."""
    from support.models import Conversation

    if os.environ.get("BENCH_REPORTS_REUSE") and Conversation.objects.exists():
        return
    seed_demo(
        report,
        accounts=2000,
        markets=200,
        disputes=0,
        conversations=0,
        feedback=500,
        **{
            "history-months": MONTHS,
            "history-conversations": CONVERSATIONS,
            "history-cases": CASES,
            "history-escalations": ESCALATIONS,
        },
    )


def run(report):

    seed_reports_history(report)
    _rows(report)
    from reports.rollups import rollups_rebuild

    started = time.perf_counter()
    days = rollups_rebuild()
    report.figure("rollups counted from scratch", f"{days} days in {time.perf_counter() - started:.1f} s")
    leader = get_user_model().objects.get(username="leadership")
    specialist = get_user_model().objects.get(username="specialist")
    client = Client()
    client.force_login(leader)
    for days in (30, 90):
        _page(report, client, f"/reports/?range={days}d", f"/reports/ last {days} days (Leadership)")
    _families(report, leader, 90)
    _memory(report, client, "/reports/?range=90d")
    own = Client()
    own.force_login(specialist)
    _page(report, own, "/reports/?range=30d", "/reports/ last 30 days (Specialist: own + team)")
    for path in _drill_paths(client):
        _page(report, client, path, f"rows {path.split('/reports/rows/')[1][:60]}", repeat=LIST_REPEAT)
    started = time.perf_counter()
    response = client.get("/reports/rows/sla-clocks/?range=90d&outcome=finished&format=csv")
    size = sum(len(chunk) for chunk in response.streaming_content)
    report.figure(
        "CSV of 90 days of finished SLA clocks",
        f"{(time.perf_counter() - started):.1f} s, {size / 1e6:.1f} MB",
    )


def _rows(report):
    from disputes.models import DisputeCase
    from oncall.models import Escalation
    from support.models import Conversation, SlaClock

    report.figure(
        "  rows",
        f"{Conversation.objects.count()} conversations ({Conversation.objects.filter(rating__isnull=False).count()} rated), "
        f"{DisputeCase.objects.count()} cases, {Escalation.objects.count()} escalations, {SlaClock.objects.count()} SLA clocks",
    )


def _page(report, client, path, label, repeat=REPEAT):
    def get():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    stats = measure(get, repeat=repeat)
    with CaptureQueriesContext(connection) as captured:
        get()
    report.figure(label, f"{summary(stats)}, {len(captured)} queries")


def _families(report, user, days):
    """Each family's build alone (the page is their sum plus rendering)."""
    from reports.metrics.base import ReportContext
    from reports.periods import last_days
    from reports.selectors import families_for

    tz = timezone.get_current_timezone()
    period = last_days(days, today=timezone.localdate(), tz=tz)
    ctx = ReportContext(period=period, previous=period.previous())
    for family in families_for(user):
        stats = measure(lambda family=family: family.build(ctx), repeat=3)
        report.figure(f"  {family.key} ({days} days)", f"median {stats['median_ms']} ms")


def _memory(report, client, path):
    tracemalloc.start()
    response = client.get(path)
    assert response.status_code == 200
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report.figure(f"peak Python memory of {path}", f"{peak / 1e6:.1f} MB (target ≤ 200 MB)")


def _drill_paths(client) -> list[str]:
    """The row lists the 30-day page links to, one per list."""
    import html
    import re

    body = client.get("/reports/?range=30d").content.decode()
    seen, paths = set(), []
    for href in re.findall(r'href="(/reports/rows/[^"]+)"', body):
        href = html.unescape(href)
        key = href.split("/")[3]
        if key not in seen and "format=csv" not in href:
            seen.add(key)
            paths.append(href)
    return paths
