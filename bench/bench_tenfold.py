"""Ten times the book (issue 23): every page at the benchmark sizes and at ten times them, side by
side, so that growth shows. Each size is seeded afresh (`seed_demo --force`), then each page is
timed as Specialist and as Leadership: median, p90 and its query count.

Sizes: BENCH_TENFOLD_SIZES, a comma-separated list of case counts (default "50000,500000"; the
accounts and markets are a 25th of the cases, feedback items 40 %). The larger size takes a
while: it is the point. Budgets (issue 23): every page ≤ 100 ms median and p90 ≤ 150 ms, ≤ 250 ms
at 100 rows, query counts equal at every size; the reports page keeps its own 500 ms on PostgreSQL
and 1 s on SQLite (issue 17).
The peak memory of the process (the seed runs in
it) is printed after each seed; the issue's budget for the seed is 500 MB."""

import os
import resource

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.timing import measure, seed_demo

SIZES = [int(size) for size in os.environ.get("BENCH_TENFOLD_SIZES", "50000,500000").split(",") if size]
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
PEOPLE = ("specialist", "leadership")


def pages() -> list[tuple[str, str, dict, str]]:
    """(label, path, query, budget) of every list page, a case and a search, found in the data."""
    from disputes.models import DisputeCase

    # The latest case with an Intercom conversation (the page reads it) and a market (two more
    # queries than without one): the same shape, and so the same queries, at every size.
    case = (
        DisputeCase.objects.exclude(intercom_conversation_id="")
        .filter(market__isnull=False)
        .order_by("-pk")
        .values_list("reference", flat=True)
        .first()
    )
    reports_budget = "500" if connection.vendor == "postgresql" else "1000"
    return [
        ("My day", "/", {}, "100"),
        ("cases", "/disputes/", {}, "100"),
        ("cases, 100 rows", "/disputes/", {"per_page": 100}, "250"),
        ("cases, q=whale", "/disputes/", {"q": "whale"}, "100"),
        # Two letters: too short for the trigram indexes, so the broadest word search there is.
        ("cases, q=ju", "/disputes/", {"q": "ju"}, "100"),
        ("a case", f"/disputes/{case}/", {}, "100"),
        ("accounts", "/accounts/", {}, "100"),
        ("markets", "/disputes/markets/", {}, "100"),
        ("past decisions", "/disputes/decisions/", {}, "100"),
        ("approvals", "/disputes/approvals/", {}, "100"),
        ("feedback", "/feedback/", {}, "100"),
        ("playbooks", "/playbooks/", {}, "100"),
        # The report's own budget (issue 17: 30 and 90 days ≤ 500 ms on PostgreSQL, ≤ 1 s on
        # SQLite); issue 23's 100 ms is for the list pages, a case and the searches.
        ("reports", "/reports/", {}, reports_budget),
        ("reports, 90 days", "/reports/", {"range": "90d"}, reports_budget),
    ]


def run(report):
    from portal.models import User

    results: dict[tuple[str, str], dict[int, tuple[float, float, int]]] = {}
    for cases in SIZES:
        seed_demo(
            report,
            accounts=max(300, cases // 25),
            markets=max(60, cases // 25),
            disputes=cases,
            feedback=max(200, cases * 2 // 5),
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report.figure(f"  peak memory of the process so far (after {cases:,} cases)", f"{peak_mb:.0f} MB")
        for username in PEOPLE:
            client = Client()
            client.force_login(User.objects.get(username=username))
            for label, path, query, _ in pages():
                results.setdefault((username, label), {})[cases] = _timed(client, path, query)
    sizes = " | ".join(f"{size:,} cases" for size in SIZES)
    report.figure("page (median ms, p90 ms, queries)", sizes)
    budgets = {label: budget for label, _, _, budget in pages()}
    for (username, label), by_size in results.items():
        cells = [by_size.get(size) for size in SIZES]
        text = " | ".join(f"{m:.0f}, {p:.0f}, {q}" if m is not None else "—" for m, p, q in cells)
        worst = max(m for m, _, _ in cells)
        counts = {q for _, _, q in cells}
        verdict = "met" if worst <= float(budgets[label]) and len(counts) == 1 else "MISSED"
        report.figure(f"  {username} {label}", f"{text} [≤ {budgets[label]} ms, same queries: {verdict}]")


def _timed(client, path, query) -> tuple[float, float, int]:
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, query)
    assert response.status_code == 200, f"{path} {query}: HTTP {response.status_code}"
    stats = measure(lambda: client.get(path, query), repeat=REPEAT)
    return stats["median_ms"], stats["p90_ms"], len(queries)
