"""Markets and rules at scale (issue 4): 5,000 markets averaging two rule versions.

Targets: /disputes/markets/ median ≤ 100 ms at 25 rows (≤ 250 ms at 100), ≤ 10 queries and the
same count at both sizes; a market page ≤ 100 ms; importing 100 markets from recorded Gamma
responses ≤ 5 s; a diff of two 20 KB versions ≤ 100 ms (bench_textdiff measures it too)."""

import copy
import json
import os
import time
from pathlib import Path

import responses
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.timing import measure, seed_demo, summary

MARKETS = int(os.environ.get("BENCH_MARKETS", "5000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "integrations"
    / "tests"
    / "fixtures"
    / "gamma"
    / "market_1689303.json"
)


def run(report):
    from disputes.models import Market, MarketRuleVersion
    from disputes.services import markets_import
    from portal.models import User
    from portal.textdiff import diff_html

    seed_demo(report, accounts=0, markets=MARKETS)
    versions = MarketRuleVersion.objects.count()
    report.figure("  rows", f"{Market.objects.count()} markets, {versions} rule versions")

    client = Client()
    client.force_login(User.objects.get(username="leadership"))
    busy = Market.objects.filter(clarification_count__gt=0).first()
    for label, path, params in [
        ("/disputes/markets/ default (25 rows)", "/disputes/markets/", {}),
        ("/disputes/markets/ per_page=100", "/disputes/markets/", {"per_page": 100}),
        ("/disputes/markets/ search", "/disputes/markets/", {"q": "Fed"}),
        ("/disputes/markets/<id>/", f"/disputes/markets/{busy.pk}/", {}),
    ]:
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path, params).status_code
        stats = measure(lambda path=path, params=params: client.get(path, params), repeat=REPEAT)
        report.figure(label, f"{summary(stats)}; {len(queries)} queries; HTTP {status}")

    payload = json.loads(FIXTURE.read_text())
    with responses.RequestsMock() as mocked:
        for n in range(100):
            item = copy.deepcopy(payload)
            item.update(id=str(8_000_000 + n), conditionId=f"0x{8_000_000 + n:064x}", slug=f"bench-{n}")
            mocked.get(f"https://gamma-api.polymarket.com/markets/{item['id']}", json=item)
        started = time.perf_counter()
        for n in range(100):
            markets_import(reference=str(8_000_000 + n), by=None)
        report.figure("import 100 markets (recorded responses)", f"{time.perf_counter() - started:.2f}", "s")

    old = "\n".join(
        f"Rule {n}: the market resolves by the official source named in its rules, clause {n}."
        for n in range(300)
    )
    new = old.replace("clause 1", "clause one").replace("clause 7", "article 7")
    report.figure(
        f"diff of two {len(old) // 1024} KB versions",
        summary(measure(lambda: diff_html(old, new), repeat=50)),
    )
