"""The reconciliation import: conversations updated since a moment, read through Intercom's
conversation search and stored as `conversation_sync(source="import")` stores them, so the mirror
ends up the same whether a state came by webhook, by import, or by both in any order.

    with IntercomClient() as client:
        report = conversations_import(client=client, since=watermark_since())

The search is `updated_at > since - overlap` (for conversations `>` means "greater or equal"),
150 a page, following `pages.next.starting_after`. Each page is stored in one transaction, in a
fixed number of queries: what the mirror holds of the page is read (and locked) at once; states it
already holds, or holds newer, are skipped; conversations it does not hold are inserted together,
with the values `conversation_sync` would store (accounts and teammates looked up once per page);
newer states of held conversations go through `conversation_sync` itself.

The watermark (`ImportWatermark`, default name "conversations") only moves past what was stored:
- search pages are not ordered by `updated_at`, so it moves once, when the run has read every
  page. A run that dies half-way leaves it where it was; the next run reads the same window again,
  and storing a state the mirror already holds is a no-op, so the repeat is harmless;
- it moves to the newest `updated_at` the run saw, never to "now": a change that the search does
  not show yet (the index lags behind by seconds to minutes) is older than "now" but newer than
  `watermark - overlap` as long as the lag is shorter than the overlap (10 minutes);
- nor past the moment the run started: a conversation that changes while a long run reads the
  pages after its own is read again by the next run;
- an item that could not be stored holds it at that item's `updated_at` (at the run's start when
  the item has no readable `updated_at`), so the next run reads it again;
- it never moves back, and it does not move when the run started after it (`--since` a later
  day would otherwise skip the gap between the two).
"""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from integrations.intercom.client import MAX_PAGES
from support.models import Conversation, ImportWatermark
from support.routing.facts import rule_specs
from support.routing.services import conversation_route
from support.services import _when, contact_moment, conversation_sync, first_message, parse_conversation
from support.sla.bulk import sla_evaluate_conversations

logger = logging.getLogger(__name__)

WATERMARK = "conversations"
OVERLAP = dt.timedelta(minutes=10)
FIRST_RUN_WINDOW = dt.timedelta(hours=24)  # how far back the first scheduled run looks
PER_PAGE = 150  # Intercom's maximum for conversation search


@dataclass
class ImportReport:
    fetched: int = 0
    stored: int = 0  # new conversations and newer states of known ones
    unchanged: int = 0  # the mirror already held this very state
    older_skipped: int = 0  # the mirror already held a newer state (a webhook was faster)
    failed: int = 0
    watermark: dt.datetime | None = None  # where the watermark stands after the run
    total: int | None = None  # Intercom's total_count for the query (from the first page)
    pages: int = 0
    calls: int = 0
    seconds: float = 0.0
    since: dt.datetime | None = None  # the start of the window that was read (overlap included)
    errors: list[str] = field(default_factory=list)  # the first few failures, for people

    def as_dict(self) -> dict:
        return {
            "fetched": self.fetched,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "older_skipped": self.older_skipped,
            "failed": self.failed,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "pages": self.pages,
            "calls": self.calls,
            "seconds": round(self.seconds, 2),
        }


def watermark_since(name: str = WATERMARK, *, default: dt.timedelta = FIRST_RUN_WINDOW) -> dt.datetime:
    """Where the next run starts: the stored watermark, or `default` ago when there is none."""
    found = ImportWatermark.objects.filter(name=name).values_list("updated_since", flat=True).first()
    return found if found is not None else timezone.now() - default


def conversations_import(
    *,
    client,
    since: dt.datetime,
    watermark_name: str | None = WATERMARK,
    progress: Callable[[ImportReport], None] | None = None,
    overlap: dt.timedelta = OVERLAP,
    per_page: int = PER_PAGE,
) -> ImportReport:
    """Import every conversation updated since `since` (less `overlap`) into the mirror.

    `client` is an `IntercomClient` (only `request()` is used). `progress(report)` is called after
    each stored page. With `watermark_name` None the watermark is neither read nor moved.
    Intercom errors propagate (after the pages read so far were stored, with the watermark
    untouched); items that are not valid conversation objects are counted as failed."""
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    started = time.perf_counter()
    started_at = timezone.now()
    calls_before = getattr(client, "calls", 0)
    start = since - overlap
    report = ImportReport(since=start)
    newest_seen: dt.datetime | None = None
    hold_at: dt.datetime | None = None  # the watermark may not pass this (a failed item)
    body = {
        "query": {"field": "updated_at", "operator": ">", "value": int(start.timestamp())},
        "pagination": {"per_page": per_page},
    }
    try:
        for _ in range(MAX_PAGES):
            page = client.request("POST", "/conversations/search", json=body)
            report.pages += 1
            if report.total is None:
                report.total = page.get("total_count")
            items = page.get("conversations") or []
            seen, failed_at = _store_page(items, report)
            if seen is not None:
                newest_seen = seen if newest_seen is None else max(newest_seen, seen)
            if failed_at is not None:
                hold_at = failed_at if hold_at is None else min(hold_at, failed_at)
            report.calls = getattr(client, "calls", 0) - calls_before
            report.seconds = time.perf_counter() - started
            if progress is not None:
                progress(report)
            cursor = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
            if not cursor:
                break
            body["pagination"] = {"per_page": per_page, "starting_after": cursor}
        else:
            # Not every page was read: what was stored stays, the watermark does not move.
            logger.warning("Conversation import stopped after %s pages; the watermark stays.", MAX_PAGES)
            watermark_name = None
        if watermark_name:
            candidate = since if newest_seen is None else max(newest_seen, since)
            candidate = min(candidate, started_at)
            if hold_at is not None:
                candidate = min(candidate, hold_at)
            report.watermark = _advance_watermark(watermark_name, start=start, to=candidate)
    finally:
        report.calls = getattr(client, "calls", 0) - calls_before
        report.seconds = time.perf_counter() - started
    return report


def _store_page(items: list, report: ImportReport) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Store one page in one transaction. Returns the newest `updated_at` that is now in the
    mirror (stored, or already there in that or a newer state) and the oldest `updated_at` of an
    item that could not be stored (the run's start when an item has none that can be read).

    Conversations the mirror does not hold yet are inserted together (what a first import is
    made of); newer states of held ones go through `conversation_sync` one by one; states the
    mirror holds already, or holds newer, cost nothing. Both ways store the same row."""
    report.fetched += len(items)
    newest: dt.datetime | None = None
    failed_at: dt.datetime | None = None
    parsed: list[tuple[dict, str, dict]] = []
    for item in items:
        try:
            fields = parse_conversation(item)
        except ValueError as error:
            failed_at = _earliest(failed_at, _failed_moment(item, report))
            _fail(report, item, error)
            continue
        parsed.append((item, str(item["id"])[:40], fields))
    if not parsed:
        return newest, failed_at
    with transaction.atomic():
        # What the mirror holds of this page, locked: a webhook for one of these waits for us.
        held = dict(
            Conversation.objects.select_for_update()
            .filter(intercom_id__in={p[1] for p in parsed})
            .values_list("intercom_id", "updated_at_intercom")
        )
        fresh: dict[str, tuple[dict, str, dict]] = {}  # not in the mirror: inserted together
        one_by_one: list[tuple[dict, str, dict]] = []  # newer states, and repeats within the page
        for entry in parsed:
            intercom_id, updated = entry[1], entry[2]["updated_at_intercom"]
            known = held.get(intercom_id)
            if known is not None and known >= updated:
                if known == updated:
                    report.unchanged += 1
                else:
                    report.older_skipped += 1
                newest = updated if newest is None else max(newest, updated)
            elif known is None and intercom_id not in fresh:
                fresh[intercom_id] = entry
            else:
                one_by_one.append(entry)
        if not fresh and not one_by_one:
            return newest, failed_at
        lookups = PageLookups([entry[2] for entry in (*fresh.values(), *one_by_one)])
        if fresh:
            if _insert(list(fresh.values()), lookups, route=True):
                report.stored += len(fresh)
                for _, _, fields in fresh.values():
                    newest = _latest(newest, fields["updated_at_intercom"])
            else:  # another writer inserted one of them meanwhile: newest wins, one at a time
                one_by_one[:0] = fresh.values()
        for item, _, fields in one_by_one:
            try:
                outcome = _sync(item, lookups)
            except ValueError as error:
                failed_at = _earliest(failed_at, fields["updated_at_intercom"])
                _fail(report, item, error)
                continue
            if outcome is None:
                report.older_skipped += 1  # a webhook stored a newer state meanwhile
            elif (
                outcome.updated_at_intercom == fields["updated_at_intercom"]
                and outcome.last_source != "import"
            ):
                report.unchanged += 1  # a webhook stored this very state meanwhile
            else:
                report.stored += 1
            newest = _latest(newest, fields["updated_at_intercom"])
    return newest, failed_at


def conversations_insert(items: list[dict]) -> int:
    """Store Intercom conversation objects the mirror does not hold yet, in one go, exactly as a
    page of the import stores them (for data written in bulk, such as seeded demo data). Raises
    ValueError for an object that is not a conversation and IntegrityError when one is held."""
    entries = [(item, str(item["id"])[:40], parse_conversation(item)) for item in items]
    if entries and not _insert(entries, PageLookups([entry[2] for entry in entries])):
        raise IntegrityError("A conversation to insert is in the mirror already.")
    return len(entries)


def _insert(entries: list[tuple[dict, str, dict]], lookups: "PageLookups", *, route: bool = False) -> bool:
    """Insert conversations the mirror does not hold, with the values `conversation_sync` would
    store, move their accounts' last contact forward, route them (with `route`: the import's new
    conversations, which a missed webhook would have routed) and start their SLA clocks as it
    would. False (nothing written) when one of them exists after all (a webhook inserted it since
    we looked)."""
    rows = []
    contact_moments: dict[int, dt.datetime] = {}
    for _, intercom_id, fields in entries:
        account = lookups.account_for(fields)
        rows.append(
            Conversation(
                intercom_id=intercom_id,
                **fields,
                account=account,
                assignee=lookups.assignee_for(fields["admin_assignee_id"]),
                last_source="import",
            )
        )
        if account is not None:
            contact_moments[account.pk] = _latest(contact_moments.get(account.pk), contact_moment(fields))
    try:
        with transaction.atomic():
            Conversation.objects.bulk_create(rows)
    except IntegrityError:
        return False
    _move_last_contact(contact_moments)
    if route and rule_specs():  # one query tells whether routing is on
        for (item, _, _), conversation in zip(entries, rows, strict=True):
            conversation_route(conversation, first_message=first_message(item))
    sla_evaluate_conversations(rows)
    return True


def _move_last_contact(moments: dict[int, dt.datetime]) -> None:
    """Each account's last contact moves forward to its moment, never back: the accounts are
    read and locked (in pk order) in one query, the ones to move written in one more."""
    from accounts.models import Account
    from portal.db import bulk_update_rows

    current = (
        Account.objects.select_for_update()
        .filter(pk__in=list(moments))
        .order_by("pk")
        .values_list("pk", "last_contact_at")
    )
    rows = [(moments[pk], pk) for pk, last in current if last is None or last < moments[pk]]
    if rows:
        bulk_update_rows(Account, ["last_contact_at"], rows)


def _latest(current: dt.datetime | None, moment: dt.datetime) -> dt.datetime:
    return moment if current is None else max(current, moment)


def _sync(item: dict, lookups: "PageLookups | None"):
    try:
        return conversation_sync(data=item, source="import", lookups=lookups)
    except IntegrityError:
        # A webhook created the same conversation between our look and our insert (the savepoint
        # of conversation_sync rolled back): store again, now as an update of that row.
        return conversation_sync(data=item, source="import", lookups=lookups)


class PageLookups:
    """The accounts and teammates a page of conversations links to, loaded in at most three
    queries instead of two or three per conversation. Answers exactly as
    `support.services._account_for` / `_assignee_for` do: the account by the contact's external
    id, else by its e-mail (case-insensitive); the portal user of the assigned teammate."""

    # What the SLA policies match an account on (support.sla.matching), loaded with it.
    SLA_FACTS = ("pk", "tier_id", "venue")

    def __init__(self, page_fields: list[dict]):
        from accounts.models import Account
        from integrations.models import IntercomAdmin

        external_ids = {f["contact_external_id"] for f in page_fields if f["contact_external_id"]}
        self.by_external_id = (
            {
                a.external_id: a
                for a in Account.objects.filter(external_id__in=external_ids).only(
                    *self.SLA_FACTS, "external_id"
                )
            }
            if external_ids
            else {}
        )
        emails = {
            f["contact_email"].lower()
            for f in page_fields
            if f["contact_email"] and f["contact_external_id"] not in self.by_external_id
        }
        self.by_email: dict = {}
        if emails:
            rows = (
                Account.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=emails)
                .only(*self.SLA_FACTS, "email")
                .order_by("pk")
            )
            for account in rows:
                self.by_email.setdefault(account.email_lower, account)
        admin_ids = {f["admin_assignee_id"] for f in page_fields if f["admin_assignee_id"]}
        self.assignees = (
            {
                admin.intercom_id: admin.portal_user
                for admin in IntercomAdmin.objects.filter(intercom_id__in=admin_ids).select_related(
                    "portal_user"
                )
            }
            if admin_ids
            else {}
        )

    def account_for(self, fields: dict):
        found = (
            self.by_external_id.get(fields["contact_external_id"]) if fields["contact_external_id"] else None
        )
        if found is None and fields["contact_email"]:
            found = self.by_email.get(fields["contact_email"].lower())
        return found

    def assignee_for(self, admin_id: str):
        return self.assignees.get(admin_id) if admin_id else None


def _failed_moment(item, report: ImportReport) -> dt.datetime:
    moment = _when(item.get("updated_at")) if isinstance(item, dict) else None
    return moment if moment is not None else report.since


def _earliest(current: dt.datetime | None, moment: dt.datetime) -> dt.datetime:
    return moment if current is None else min(current, moment)


def _fail(report: ImportReport, item, error: Exception) -> None:
    report.failed += 1
    which = item.get("id") if isinstance(item, dict) else None
    message = f"conversation {which or '(no id)'}: {error}"
    if len(report.errors) < 20:  # the first few, for people; the count says how many
        report.errors.append(message)
        logger.warning("Conversation import: %s", message)


def _advance_watermark(name: str, *, start: dt.datetime, to: dt.datetime) -> dt.datetime:
    """Move the watermark forward to `to`, unless the run started after it (a gap) or it is
    already further. Creates it on the first run. Returns where it stands."""
    with transaction.atomic():
        mark = ImportWatermark.objects.select_for_update().filter(name=name).first()
        now = timezone.now()
        if mark is None:
            ImportWatermark.objects.create(name=name, updated_since=to, last_run_at=now)
            return to
        if start <= mark.updated_since and to > mark.updated_since:
            mark.updated_since = to
        mark.last_run_at = now
        mark.save(update_fields=["updated_since", "last_run_at"])
        return mark.updated_since
