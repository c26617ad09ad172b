"""Frozen weeks (issue 20) over the reports' benchmark data: a year of history, 500,000
conversations, 50,000 cases and 10,000 escalations (`seed_demo --history-*`, as bench_reports).

Targets: freezing one week ≤ 10 s on PostgreSQL (measured as an Admin's recompute of the
busiest recent week, which counts it again in full); /reports/weeks/ ≤ 100 ms median with 104
weeks frozen (the year's 52 weeks frozen for real, the year before filled with copies of them,
so every row is a real snapshot's size). Also printed: a frozen week's page (which counts the
week again live, to show what changed) and the weekly e-mail's rendering.

BENCH_REPORTS_CONVERSATIONS / _CASES / _ESCALATIONS / _MONTHS change the size;
BENCH_REPORTS_REUSE=1 keeps a database seeded by an earlier run (with DATABASE_URL)."""

import datetime as dt
import os
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.bench_reports import seed_reports_history
from bench.timing import measure, summary

REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
WEEKS = 104


def run(report):
    from reports.models import MetricSnapshot
    from reports.rollups import rollups_rebuild
    from reports.weekly.freezing import last_finished_week, week_freeze, weeks_backfill

    seed_reports_history(report)
    rollups_rebuild()
    admin = get_user_model().objects.get(username="admin")
    busiest = last_finished_week()
    freezes = []
    for n in range(3):
        started = time.perf_counter()
        week_freeze(busiest, by=admin, reason=f"benchmark {n}")
        freezes.append(time.perf_counter() - started)
    snapshot = MetricSnapshot.objects.get(week=busiest, replaced_at__isnull=True)
    verdict = "met" if connection.vendor != "postgresql" or max(freezes) <= 10 else "NOT met"
    report.figure(
        "freeze one week (recompute, counted in full)",
        f"{', '.join(f'{s:.2f}' for s in freezes)} s; {snapshot.items:,} items, "
        f"{len(str(snapshot.sections)) // 1024} KB [target ≤ 10 s on PostgreSQL: {verdict}]",
    )
    started = time.perf_counter()
    made = weeks_backfill(52)
    report.figure("freeze the year's other weeks", f"{made} weeks in {time.perf_counter() - started:.1f} s")
    _fill_the_year_before(busiest)
    report.figure("weeks frozen", MetricSnapshot.objects.filter(replaced_at__isnull=True).count())

    client = Client()
    client.force_login(get_user_model().objects.get(username="leadership"))

    def weeks_page():
        response = client.get("/reports/weeks/")
        assert response.status_code == 200, response.status_code

    times = measure(weeks_page, repeat=REPEAT * 3)
    with CaptureQueriesContext(connection) as queries:
        weeks_page()
    met = "met" if times["median_ms"] <= 100 else "NOT met"
    report.figure(
        f"/reports/weeks/ with {WEEKS} weeks",
        f"{summary(times)}, {len(queries)} queries [target ≤ 100 ms median: {met}]",
    )
    url = f"/reports/weeks/{busiest.isoformat()}/"
    report.figure(
        "a frozen week's page (counts it again live)",
        summary(measure(lambda: client.get(url), repeat=REPEAT)),
    )
    _mail(report, snapshot)


def _fill_the_year_before(busiest: dt.date) -> None:
    """Copies of the year's snapshots, a year earlier, up to WEEKS frozen weeks in all."""
    from reports.models import MetricSnapshot

    current = list(MetricSnapshot.objects.filter(replaced_at__isnull=True).order_by("-week"))
    have = {s.week for s in current}
    copies = []
    for snapshot in current:
        week = snapshot.week - dt.timedelta(weeks=52)
        if len(have) + len(copies) >= WEEKS:
            break
        if week in have:
            continue
        snapshot.pk, snapshot.week = None, week
        snapshot.starts_at -= dt.timedelta(weeks=52)
        snapshot.ends_at -= dt.timedelta(weeks=52)
        copies.append(snapshot)
    MetricSnapshot.objects.bulk_create(copies)


def _mail(report, snapshot) -> None:
    from reports.weekly.mail import weekly_message

    leader = get_user_model().objects.get(username="leadership")
    times = measure(lambda: weekly_message(snapshot, leader.email, leader).message(), repeat=REPEAT)
    report.figure("the weekly e-mail for one reader, rendered", summary(times))
