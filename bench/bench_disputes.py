"""Dispute case files at scale: seed 2,000 accounts, 5,000 markets and 50,000 cases, then time the
case list, a case with a long history and a busy market's page, as `specialist` and `leadership`.

Targets: seed < 90 s; /disputes/ median ≤ 100 ms and p90 ≤ 150 ms at 25 rows (default view,
status filter, transaction-hash search), ≤ 250 ms at 100 rows, ≤ 12 queries and the same count at
25 and 100 rows; /disputes/<reference>/ with 100+ events ≤ 100 ms; /disputes/markets/<id>/ with
500+ cases ≤ 150 ms."""

import os

from django.db import connection, reset_queries
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.timing import measure, seed_demo, summary

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "2000"))
MARKETS = int(os.environ.get("BENCH_MARKETS", "5000"))
DISPUTES = int(os.environ.get("BENCH_DISPUTES", "50000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
SEED_TARGET_S = 90


def run(report):
    from disputes.models import CaseEvent, DisputeCase, EvidenceItem, WalletActivityRow
    from portal.models import User

    seed_demo(report, target_s=SEED_TARGET_S, accounts=ACCOUNTS, markets=MARKETS, disputes=DISPUTES)
    report.figure(
        "  rows",
        f"{DisputeCase.objects.count()} cases, {CaseEvent.objects.count()} events, "
        f"{EvidenceItem.objects.count()} evidence items, {WalletActivityRow.objects.count()} activity rows",
    )

    long_case = (
        DisputeCase.objects.annotate(n=Count("events")).order_by("-n").values_list("reference", "n").first()
    )
    busy_market = (
        DisputeCase.objects.exclude(market=None)
        .values_list("market_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    evidence = (
        EvidenceItem.objects.filter(kind=EvidenceItem.Kind.TRANSACTION)
        .values_list("value", "case__reference")
        .first()
    )
    if long_case is None or busy_market is None or evidence is None:
        report.figure("pages", "skipped: the seed made no cases, markets or transaction evidence")
        return
    report.figure("  case with the longest history", f"{long_case[0]} ({long_case[1]} events)")
    report.figure("  market with the most cases", f"#{busy_market[0]} ({busy_market[1]} cases)")
    tx_hash, tx_case = evidence
    report.figure("  transaction hash searched", f"{tx_hash} (evidence of {tx_case})")

    for username in ("specialist", "leadership"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        counts = {}
        for label, params, target in [
            ("default (25 rows)", {}, "≤ 100 ms median, ≤ 150 ms p90"),
            ("status=investigating", {"status": "investigating"}, "≤ 100 ms median, ≤ 150 ms p90"),
            ("q=<transaction hash>", {"q": tx_hash}, "≤ 100 ms median, ≤ 150 ms p90"),
            ("per_page=100", {"per_page": 100}, "≤ 250 ms median"),
        ]:
            counts[label] = _page(
                report,
                client,
                f"{username} /disputes/ {label}",
                "/disputes/",
                params,
                target,
                expect=tx_case if "q" in params else None,
            )
        same = counts["default (25 rows)"] == counts["per_page=100"]
        report.figure(
            f"{username} /disputes/ queries at 25 vs 100 rows",
            f"{counts['default (25 rows)']} vs {counts['per_page=100']} "
            f"(target ≤ 12 and equal: {'met' if same and counts['per_page=100'] <= 12 else 'MISSED'})",
        )
        _page(
            report,
            client,
            f"{username} /disputes/<ref>/ ({long_case[1]} events)",
            f"/disputes/{long_case[0]}/",
            {},
            "≤ 100 ms median",
        )
        _page(
            report,
            client,
            f"{username} /disputes/markets/<id>/ ({busy_market[1]} cases)",
            f"/disputes/markets/{busy_market[0]}/",
            {},
            "≤ 150 ms median",
        )


def _page(report, client, label, path, params, target, *, expect=None) -> int:
    reset_queries()  # the debug query log is capped; a full one would hide the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    stats = measure(lambda: client.get(path, params), repeat=REPEAT)
    found = ""
    if expect is not None:  # a search: did it find the case?
        found = f"; {expect} {'found' if expect in response.content.decode() else 'NOT found (0 rows?)'}"
    report.figure(
        label,
        f"{summary(stats)}; {len(queries)} queries; HTTP {response.status_code}{found} [target {target}]",
    )
    return len(queries)
