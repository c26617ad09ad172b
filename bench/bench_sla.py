"""SLA clocks at scale: 100,000 open conversations and cases (`seed_demo --open-items`), then the
minute pass and the queue.

Targets: the minute pass ≤ 1 s when 1 % of the open items cross a deadline (a warning or a breach
comes due), ≤ 50 ms when nothing is due; /support/ median ≤ 100 ms (p90 ≤ 150) at 25 rows for the
default view, ?kind=case and ?sla=breached, ≤ 12 queries, the same at 25 and 100 rows. Adding
10,000 working minutes is measured by bench_business_time.

The pass is timed at moments chosen from the stored deadlines, so that exactly the next 1 % of
items come due each time (time moving on, as it does between two passes). A pass queues one task
for its warning e-mails (the broker's insert is inside the figure; the sending is a worker's job,
and Django's in-memory outbox keeps any mail from leaving)."""

import datetime as dt
import os
import time

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.timing import measure, seed_demo, summary

OPEN_ITEMS = int(os.environ.get("BENCH_SLA_OPEN_ITEMS", "100000"))
ACCOUNTS = int(os.environ.get("BENCH_SLA_ACCOUNTS", "2000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
ROUNDS = 5  # minute passes with 1 % due, each at the next 1 % of deadlines


def run(report):
    from support.models import SlaClock
    from support.sla.tick import sla_tick

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seed_demo(
        report,
        accounts=ACCOUNTS,
        markets=200,
        disputes=0,
        conversations=0,
        feedback=0,
        **{"open-items": OPEN_ITEMS},
    )
    heads = SlaClock.objects.filter(queue_rank__isnull=False)
    report.figure(
        "  rows",
        f"{heads.filter(conversation__isnull=False).count()} open conversations and "
        f"{heads.filter(case__isnull=False).count()} open cases in the queue, {SlaClock.objects.count()} clocks",
    )

    now = timezone.now()
    started = time.perf_counter()
    caught_up = sla_tick(now)
    report.figure(
        "first pass after the seed (what was due)",
        f"{(time.perf_counter() - started) * 1000:.0f} ms for {caught_up.clocks} clocks "
        f"({caught_up.warnings} warnings, {caught_up.breaches} breaches)",
    )
    _nothing_due(report, sla_tick, now)
    _one_percent_due(report, sla_tick, SlaClock, now)
    _queue(report)


def _nothing_due(report, sla_tick, now):
    stats = measure(lambda: sla_tick(now), repeat=REPEAT)
    reset_queries()  # the debug query log is capped; a full one would hide the count
    with CaptureQueriesContext(connection) as queries:
        sla_tick(now)
    verdict = "met" if stats["median_ms"] <= 50 else "MISSED"
    report.figure(
        "minute pass, nothing due", f"{summary(stats)}; {len(queries)} queries [target ≤ 50 ms: {verdict}]"
    )


def _one_percent_due(report, sla_tick, SlaClock, now):
    share = max(1, OPEN_ITEMS // 100)
    deadlines = list(
        SlaClock.objects.filter(next_deadline__gt=now)
        .order_by("next_deadline")
        .values_list("next_deadline", flat=True)[: share * ROUNDS]
    )
    samples, moment = [], now
    for round_ in range(ROUNDS):
        if len(deadlines) < share * (round_ + 1):
            break
        moment = deadlines[share * (round_ + 1) - 1]
        started = time.perf_counter()
        result = sla_tick(moment)
        samples.append(((time.perf_counter() - started) * 1000, result))
    if not samples:
        report.figure("minute pass, 1 % due", "skipped: too few pending deadlines")
        return
    for ms, result in samples:
        verdict = "met" if ms <= 1000 else "MISSED"
        report.figure(
            f"minute pass, 1 % due ({share} items)",
            f"{ms:.0f} ms: {result.clocks} clocks, {result.warnings} warnings, {result.breaches} breaches "
            f"[target ≤ 1 s: {verdict}]",
        )
    report.figure("  passes spanned", f"{(moment - now) / dt.timedelta(minutes=1):.0f} minutes of deadlines")


def _queue(report):
    from accounts.models import Tier
    from portal.models import User

    for username, views in (
        (
            "admin",
            [
                ("default (everyone)", {}),
                ("kind=case", {"kind": "case"}),
                ("sla=breached", {"sla": "breached"}),
            ],
        ),
        (
            "specialist",
            [
                ("default (mine)", {}),
                ("kind=case", {"kind": "case"}),
                ("sla=breached", {"sla": "breached"}),
                ("everyone", {"who": "everyone"}),
                ("tier 1", {"tier": Tier.objects.get(rank=1).pk}),
            ],
        ),
    ):
        client = Client()
        client.force_login(User.objects.get(username=username))
        counts = {}
        for label, params in views:
            counts[label] = _page(report, client, f"{username} /support/ {label}", params)
        hundred = _page(report, client, f"{username} /support/ per_page=100", {"per_page": 100})
        first = counts[views[0][0]]
        ok = first == hundred and max(counts.values()) <= 12
        report.figure(
            f"{username} /support/ queries at 25 vs 100 rows",
            f"{first} vs {hundred} (target ≤ 12 and equal: {'met' if ok else 'MISSED'})",
        )
    client = Client()
    client.force_login(User.objects.get(username="specialist"))
    _page(report, client, "specialist My day (with Breaching soon)", {}, path="/")


def _page(report, client, label, params, *, path="/support/") -> int:
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    stats = measure(lambda: client.get(path, params), repeat=REPEAT)
    met = stats["median_ms"] <= 100 and stats["p90_ms"] <= 150
    if path != "/support/":  # another page, shown for comparison
        shown = ""
    else:
        shown = f"; {response.content.decode().count('</tr>') - 1} rows"  # less the heading row
        if "per_page" not in params:
            shown += f" [target ≤ 100 ms median, ≤ 150 p90: {'met' if met else 'MISSED'}]"
    report.figure(label, f"{summary(stats)}; {len(queries)} queries; HTTP {response.status_code}{shown}")
    return len(queries)
