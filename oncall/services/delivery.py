"""Delivering the stored pages: each page is claimed, sent through its channel, and its result
recorded; a failed one is retried with backoff until it goes out or gives up. Nothing is lost
when a channel is down: the page stays stored with its last error.

A claim marks pages "sending" under row locks (SKIP LOCKED on PostgreSQL; SQLite's IMMEDIATE
transactions queue the claimers) in a short transaction, and sets `next_attempt_at` to the end
of a 2-minute lease: a worker killed mid-send leaves its pages "sending", and the next pass
claims them again once the lease has run out. Sending happens outside any transaction; a pass
stops starting new sends well before its lease ends and hands the rest back, so two workers
never send the same page at once."""

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from oncall.channels import PAGE_RELATED, DeliveryError, Pager
from oncall.models import Escalation, Page
from portal.db import bulk_update_rows

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
SEND_BUDGET_SECONDS = 60  # well inside the lease, with room for one last send's timeouts
SEND_THREADS = 8  # e-mails and chat posts in flight at once
BACKOFF_MINUTES = (1, 2, 5, 10, 30)  # after the 1st, 2nd, ... failed attempt; then every 30 minutes
MAX_ATTEMPTS = 8
UNDELIVERED = (Page.Status.PENDING, Page.Status.SENDING, Page.Status.FAILED)
NOT_SENT = {
    Escalation.Status.ACKNOWLEDGED: "Acknowledged before it was sent",
    Escalation.Status.RESOLVED: "Resolved before it was sent",
}
RESULT_FIELDS = ["status", "attempts", "next_attempt_at", "claimed_at", "sent_at", "last_error"]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0  # gave up: the last attempt failed, or retrying cannot help
    skipped: int = 0  # not sent: the escalation was acknowledged or resolved first

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "dead": self.dead, "skipped": self.skipped}


def backoff(attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th failed attempt a page is tried again."""
    return dt.timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def pages_deliver(now: dt.datetime | None = None, *, limit: int = 500) -> DeliveryReport:
    """Send up to `limit` due pages: pending ones, failed ones whose retry time has come, and
    ones left "sending" by a worker that died (lease over). Each page ends sent, failed (with
    its error and the time of its next attempt), or dead (after MAX_ATTEMPTS, when retrying
    cannot help, or when its escalation was acknowledged or resolved before it went out).
    A constant number of queries besides the sends. Safe to run twice at once and to retry:
    a page is sent by one claimer only. With `now`, every time it writes is `now`."""
    clock = (lambda: now) if now is not None else timezone.now
    report = DeliveryReport()
    with Pager() as pager:
        while limit > 0:
            claimed = pages_claim(clock(), limit=limit)
            handed_back = _deliver(claimed, pager, clock, report) if claimed else 0
            if len(claimed) < limit and not handed_back:
                break  # fewer were due than asked for: nothing more to do
            limit -= len(claimed) - handed_back
    return report


def pages_claim(now: dt.datetime, *, limit: int) -> list[int]:
    """Claim up to `limit` due pages for this worker: they turn "sending", with `claimed_at` now
    and `next_attempt_at` at the end of the lease, and their attempt is counted. Pages another
    claimer holds (locked, or "sending" within its lease) are never returned. Oldest due first."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        due = (
            Page.objects.filter(status__in=UNDELIVERED)
            .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
            .exclude(status=Page.Status.SENDING, claimed_at__gt=now - LEASE)
            .select_for_update(skip_locked=skip_locked)
            .order_by(F("next_attempt_at").asc(nulls_first=True), "pk")
        )
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            Page.objects.filter(pk__in=ids).update(
                status=Page.Status.SENDING,
                claimed_at=now,
                next_attempt_at=now + LEASE,
                attempts=F("attempts") + 1,
            )
    return ids


def _deliver(ids: list[int], pager: Pager, clock, report: DeliveryReport) -> int:
    """Send the claimed pages and record every result in one statement; returns how many were
    handed back unsent because the time budget ran out. Intercom notes are an outbox row (a
    database write) and are recorded here; e-mails and chat posts go out SEND_THREADS at a time,
    so a slow mail server or webhook costs its own wait, not one wait per page in a row."""
    pages = list(
        Page.objects.filter(pk__in=ids)
        .select_related(*PAGE_RELATED)
        .order_by("escalation__severity", "created_at", "pk")  # SEV1 first
    )
    started = time.monotonic()

    def over_budget(index: int) -> bool:
        return index > 0 and time.monotonic() - started > SEND_BUDGET_SECONDS

    rows, outcomes = [], []
    network = []
    for index, page in enumerate(pages):
        if page.channel != Page.Channel.INTERCOM:
            network.append((index, page))
        elif over_budget(index):
            rows.append(_handed_back(page, clock()))
            outcomes.append(None)
        else:
            rows.append(_attempt(page, pager, clock, report))
    sent_rows, parts = _send_at_once(network, pager, clock, over_budget)
    rows.extend(sent_rows)
    for part in filter(None, parts):
        for name, value in part.as_dict().items():
            setattr(report, name, getattr(report, name) + value)
    handed_back = sum(1 for part in parts if part is None) + outcomes.count(None)
    with transaction.atomic():
        bulk_update_rows(Page, RESULT_FIELDS, rows)
    return handed_back


def _send_at_once(indexed_pages, pager: Pager, clock, over_budget) -> tuple[list[tuple], list]:
    """Send e-mails and chat posts from SEND_THREADS threads, each with its own connections
    (sharing what is known to be unreachable in this pass). Workers touch no database: every
    page arrives with PAGE_RELATED loaded. Returns the result rows and, per page, its report
    (None when it was handed back unsent)."""
    if not indexed_pages:
        return [], []
    local, lock, pagers = threading.local(), threading.Lock(), []

    def pager_of_this_thread() -> Pager:
        if not hasattr(local, "pager"):
            local.pager = Pager(unreachable=pager.unreachable)
            with lock:
                pagers.append(local.pager)
        return local.pager

    def work(index: int, page: Page):
        if over_budget(index):
            return _handed_back(page, clock()), None
        part = DeliveryReport()
        return _attempt(page, pager_of_this_thread(), clock, part), part

    workers = min(SEND_THREADS, len(indexed_pages))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pager") as pool:
            results = list(pool.map(lambda item: work(*item), indexed_pages))
    finally:
        for each in pagers:
            each.close()
    return [row for row, _ in results], [part for _, part in results]


def _attempt(page: Page, pager: Pager, clock, report: DeliveryReport) -> tuple:
    """Send one page; its new (status, attempts, next_attempt_at, claimed_at, sent_at,
    last_error, pk). Its attempt was counted when it was claimed."""
    reason = NOT_SENT.get(page.escalation.status)
    if reason is not None:
        report.skipped += 1
        return (Page.Status.DEAD, page.attempts - 1, None, None, None, reason, page.pk)
    try:
        pager.send(page)
    except DeliveryError as error:
        message, permanent = error.message, error.permanent
    except Exception as error:
        # A bug must not leave the page "sending" forever: it is retried and gives up like any
        # failure, and the traceback goes to the log.
        logger.exception("Page %s could not be sent", page.pk)
        message, permanent = f"Unexpected error ({type(error).__name__})", False
    else:
        report.sent += 1
        return (Page.Status.SENT, page.attempts, None, None, clock(), "", page.pk)
    message = message[:500]
    if permanent or page.attempts >= MAX_ATTEMPTS:
        report.dead += 1
        return (Page.Status.DEAD, page.attempts, None, None, None, message, page.pk)
    report.failed += 1
    retry_at = clock() + backoff(page.attempts)
    return (Page.Status.FAILED, page.attempts, retry_at, None, None, message, page.pk)


def _handed_back(page: Page, now: dt.datetime) -> tuple:
    """Not tried in this pass: due again at once, its attempt not counted."""
    attempts = page.attempts - 1
    status = Page.Status.FAILED if attempts else Page.Status.PENDING
    return (status, attempts, now, None, None, page.last_error, page.pk)
