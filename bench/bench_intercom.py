"""Draining the outbox to Intercom at scale (issue 7): 10,000 changed accounts against the fake
at its default limit (1,666 calls per 10 s).

Target: ≥ 90 % of the limit with no failure caused by a 429; a second drain with nothing changed
makes zero calls. Reports calls, wall time and the achieved rate against the limit."""

import io
import os
import time

from django.conf import settings
from django.core.management import call_command

from bench.timing import seed_demo

ACCOUNTS = int(os.environ.get("BENCH_INTERCOM_ACCOUNTS", "10000"))


def run(report):
    from integrations.intercom.client import IntercomClient
    from integrations.intercom.fake import FakeIntercom
    from integrations.intercom.sender import drain
    from integrations.models import RateBudget, SyncJob

    seed_demo(report, accounts=ACCOUNTS, markets=0, disputes=0, conversations=0)
    pending = SyncJob.objects.filter(status="pending").count()
    report.figure("  outbox jobs pending", pending)

    with FakeIntercom(search_delay_seconds=0) as fake:
        settings.INTERCOM_ENABLED = True
        settings.INTERCOM_ACCESS_TOKEN = fake.token
        settings.INTERCOM_BASE_URL = fake.url
        call_command("intercom_setup", stdout=io.StringIO())
        RateBudget.objects.all().delete()
        limit, window = fake.rate_limit, fake.rate_window_seconds
        calls_before, limited_before = fake.call_count, fake.rate_limited_calls
        started = time.perf_counter()
        with IntercomClient() as client:
            result = drain(client=client, max_seconds=3600)
        wall = time.perf_counter() - started
        calls = fake.call_count - calls_before
        rate = calls / wall
        share = rate / (limit / window)
        report.figure("drain: jobs delivered", f"{result.delivered} (+{result.skipped_unchanged} unchanged)")
        report.figure("drain: failed / dead", f"{result.failed} / {result.dead}")
        report.figure("drain: calls, wall time", f"{calls} calls in {wall:.1f} s")
        report.figure("drain: 429s answered by the fake", fake.rate_limited_calls - limited_before)
        verdict = "met" if share >= 0.9 and result.failed == 0 else "NOT met"
        report.figure(
            "drain: achieved rate",
            f"{rate:.1f} calls/s = {share:.0%} of {limit}/{window:g}s [target ≥ 90 %, no 429 failures: {verdict}]",
        )
        report.figure("drain: contacts in Intercom", len(fake.contacts()))
        calls_before = fake.call_count
        with IntercomClient() as client:
            again = drain(client=client, max_seconds=60)
        report.figure(
            "second drain, nothing changed",
            f"{fake.call_count - calls_before} calls, {again.delivered} delivered [target 0]",
        )
