"""The feedback log at scale: seed 5,000 accounts and 20,000 feedback items (about 100,000 linked
accounts, one item with 200), then time the log, an item with 200 accounts and the board, as
`product` and `specialist`; also the product-area page and the weekly digest's figures.

Targets: seed well within two minutes (< 120 s); /feedback/ median ≤ 100 ms and p90 ≤ 150 ms at
25 rows (default view, which sorts by impact; explicit sort=-impact_score; status=new; a word
search), ≤ 250 ms at 100 rows, ≤ 10 queries and the same count at 25 and 100 rows;
/feedback/<id>/ with 200 accounts ≤ 100 ms; /feedback/board/ ≤ 150 ms."""

import os

from django.db import connection, reset_queries
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.timing import measure, seed_demo, summary

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "5000"))
FEEDBACK = int(os.environ.get("BENCH_FEEDBACK", "20000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
SEARCH = os.environ.get("BENCH_FEEDBACK_SEARCH", "withdrawal")
SEED_TARGET_S = 120
LIST = "≤ 100 ms median, ≤ 150 ms p90"


def run(report):
    from feedback.digest import digest_build
    from feedback.models import FeedbackEvent, FeedbackItem, FeedbackSource, FollowUp
    from portal.models import User

    seed_demo(report, target_s=SEED_TARGET_S, accounts=ACCOUNTS, markets=0, disputes=0, feedback=FEEDBACK)
    report.figure(
        "  rows",
        f"{FeedbackItem.objects.count()} items, {FeedbackSource.objects.count()} linked accounts, "
        f"{FeedbackEvent.objects.count()} events, {FollowUp.objects.count()} follow-ups",
    )
    big = (
        FeedbackItem.objects.annotate(n=Count("sources")).order_by("-n", "pk").values_list("pk", "n").first()
    )
    if big is None:
        report.figure("pages", "skipped: the seed made no feedback (no accounts?)")
        return
    matches = FeedbackItem.objects.filter(Q(title__icontains=SEARCH) | Q(description__icontains=SEARCH))
    report.figure("  item with the most accounts", f"#{big[0]} ({big[1]} accounts)")
    report.figure(f"  items matching q={SEARCH}", f"{matches.count()} (all statuses)")
    expect = (
        matches.exclude(status__in=["shipped", "declined", "duplicate"]).order_by("-impact_score").first()
    )

    for username in ("product", "specialist"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        counts = {}
        for label, params, target in [
            ("default (25 rows, by impact)", {}, LIST),
            ("sort=-impact_score", {"sort": "-impact_score"}, LIST),
            ("status=new", {"status": "new"}, LIST),
            (f"q={SEARCH}", {"q": SEARCH}, LIST),
            ("per_page=100", {"per_page": 100}, "≤ 250 ms median"),
        ]:
            counts[label] = _page(
                report,
                client,
                f"{username} /feedback/ {label}",
                "/feedback/",
                params,
                target,
                expect=f"/feedback/{expect.pk}/" if "q" in params and expect else None,
            )
        same = counts["default (25 rows, by impact)"] == counts["per_page=100"]
        report.figure(
            f"{username} /feedback/ queries at 25 vs 100 rows",
            f"{counts['default (25 rows, by impact)']} vs {counts['per_page=100']} "
            f"(target ≤ 10 and equal: {'met' if same and counts['per_page=100'] <= 10 else 'MISSED'})",
        )
        _page(
            report,
            client,
            f"{username} /feedback/<id>/ ({big[1]} accounts)",
            f"/feedback/{big[0]}/",
            {},
            "≤ 100 ms median",
        )
        _page(report, client, f"{username} /feedback/board/", "/feedback/board/", {}, "≤ 150 ms median")
        if username == "product":
            _page(report, client, "product /feedback/areas/", "/feedback/areas/", {}, "≤ 100 ms median")

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        digest = digest_build(now=timezone.now())
    stats = measure(lambda: digest_build(now=timezone.now()), repeat=10)
    report.figure(
        "weekly digest figures (digest_build)",
        f"{summary(stats)}; {len(queries)} queries; {digest.new_count} new, {len(digest.movers)} movers, "
        f"{digest.waiting_count} waiting on triage",
    )


def _page(report, client, label, path, params, target, *, expect=None) -> int:
    reset_queries()  # the debug query log is capped; a full one would hide the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    stats = measure(lambda: client.get(path, params), repeat=REPEAT)
    found = ""
    if expect is not None:  # a search: did the top open match come back?
        found = f"; top match {'found' if expect in response.content.decode() else 'NOT found'}"
    report.figure(
        label,
        f"{summary(stats)}; {len(queries)} queries; HTTP {response.status_code}{found} [target {target}]",
    )
    return len(queries)
