"""Portfolio at scale (issue 3): seed 10,000 accounts, then time the portfolio table, the account
page and the daily cadence pass, as `specialist` (their own book) and `leadership` (everything).

Targets: seed < 60 s; /accounts/ median ≤ 100 ms and p90 ≤ 150 ms at 25 rows (default view,
sort by next due, wallet search), ≤ 250 ms at 100 rows, ≤ 10 queries and the same count at 25
and 100 rows; /accounts/<id>/ with 200 check-ins median ≤ 100 ms with a constant query count;
daily cadence pass over 10,000 accounts ≤ 5 s."""

import datetime as dt
import io
import os
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.timing import measure, summary

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))


def run(report):
    from accounts.models import Account, CheckIn, Wallet
    from accounts.services import cadence_daily_pass
    from portal.models import User

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    started = time.perf_counter()
    call_command(
        "seed_demo", "--force", "--accounts", str(ACCOUNTS), "--specialists", "12", stdout=io.StringIO()
    )
    report.figure(f"seed_demo --accounts {ACCOUNTS}", f"{time.perf_counter() - started:.1f}", "s")
    report.figure(
        "  rows",
        f"{Account.objects.count()} accounts, {Wallet.objects.count()} wallets, {CheckIn.objects.count()} check-ins",
    )

    wallet = (
        Wallet.objects.select_related("account__owner").filter(account__owner__username="specialist").first()
    )
    busy = wallet.account
    now = timezone.now()
    extra = 200 - busy.check_ins.count()
    CheckIn.objects.bulk_create(
        CheckIn(
            account=busy, specialist=busy.owner, occurred_at=now - dt.timedelta(days=400 + n), summary="Older"
        )
        for n in range(max(0, extra))
    )

    for username in ("specialist", "leadership"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        scope = "own book" if username == "specialist" else "all accounts"
        for label, params in [
            ("default view", {}),
            ("sort by next due", {"sort": "next_check_in_due"}),
            ("wallet search", {"q": wallet.address}),
            ("per_page=100", {"per_page": 100}),
        ]:
            _page(report, client, f"{username} ({scope}) /accounts/ {label}", "/accounts/", params)
        _page(report, client, f"{username} /accounts/<id>/ (200 check-ins)", f"/accounts/{busy.pk}/", {})

    durations = []
    for attempt in range(2):
        started = time.perf_counter()
        outcome = cadence_daily_pass()
        durations.append(time.perf_counter() - started)
        report.figure(f"daily cadence pass, run {attempt + 1}", f"{durations[-1]:.2f} s", str(outcome))


def _page(report, client, label, path, params):
    reset_queries()  # the debug query log is capped; a full one would hide the count
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path, params).status_code
    stats = measure(lambda: client.get(path, params), repeat=REPEAT)
    report.figure(label, f"{summary(stats)}; {len(queries)} queries; HTTP {status}")
