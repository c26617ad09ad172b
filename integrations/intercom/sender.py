"""The outbox sender: delivers pending SyncJobs to Intercom, in order per contact.

A worker claims every undelivered job of a few contacts at a time (a lease: a worker that dies
mid-batch leaves jobs "running" with an old `claimed_at`, and the next drain takes them over).
For each contact the jobs go out oldest first; a failure stops that contact's later jobs until
the failed one is retried, so Intercom never sees an older state after a newer one. Failures are
retried with exponential backoff; after 24 hours of failures a job is dead (kept, shown on the
sync page with a retry button). Nothing is ever dropped.

Kinds:
- `contact.upsert` (key `account:<id>`): find or create the contact (the stored Intercom id first,
  then `find_by_external_id`, then create as a user — never a search right after creating, which
  lags), set its attributes and owner, and swap its tier tag.
- `contact.attributes` (e.g. `account:<id>:disputes`): custom attributes on the contact.
- `contact.note` (e.g. `decision:<id>`): a note on the contact, written once even if a worker died
  after sending it (a retried note is looked for first).
- `conversation.reply` (key `reply:<template use id>`): a reply the user sees in their Intercom
  conversation, as the specialist's teammate (the app's own admin when they have none). The
  conversation is read first: it must be with the account's contact, and the same text from
  that teammate already there means it was sent (so a retry never sends it twice).
"""

import contextlib
import datetime as dt
import html
import logging
import random
import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import IntercomConflict, IntercomError, IntercomNotFound
from integrations.models import IntercomAdmin, IntercomContact, SyncJob
from integrations.outbox import outbox_mark_delivered

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
DEAD_AFTER = dt.timedelta(hours=24)
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)
CONTACTS_PER_CLAIM = 50
UNDELIVERED = (SyncJob.Status.PENDING, SyncJob.Status.FAILED, SyncJob.Status.RUNNING)


@dataclass
class DrainReport:
    delivered: int = 0
    skipped_unchanged: int = 0
    superseded: int = 0
    failed: int = 0
    dead: int = 0
    calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _due_q(now) -> Q:
    return (
        Q(status__in=[SyncJob.Status.PENDING, SyncJob.Status.FAILED])
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ) | Q(status=SyncJob.Status.RUNNING, claimed_at__lt=now - LEASE)


def _is_due(job: SyncJob, now) -> bool:
    if job.status == SyncJob.Status.RUNNING:
        return job.claimed_at is None or job.claimed_at < now - LEASE
    return job.next_attempt_at is None or job.next_attempt_at <= now


def claim(limit_contacts: int = CONTACTS_PER_CLAIM) -> list[list[SyncJob]]:
    """Take the undelivered jobs of up to `limit_contacts` contacts whose oldest undelivered job
    is due; returns them grouped per contact, oldest first."""
    now = timezone.now()
    with transaction.atomic():
        due = SyncJob.objects.filter(_due_q(now)).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        keys: list[str] = []
        for contact_key in due.values_list("contact_key", flat=True)[: limit_contacts * 20]:
            if contact_key not in keys:
                keys.append(contact_key)
            if len(keys) >= limit_contacts:
                break
        if not keys:
            return []
        jobs = list(
            SyncJob.objects.select_for_update()
            .filter(contact_key__in=keys, status__in=UNDELIVERED)
            .order_by("pk")
        )
        groups: dict[str, list[SyncJob]] = {}
        for job in jobs:
            groups.setdefault(job.contact_key, []).append(job)
        claimed = []
        for key in keys:
            group = groups.get(key, [])
            if not group or not _is_due(group[0], now):
                continue  # an earlier change to this contact waits for its retry, or is in flight
            if any(j.status == SyncJob.Status.RUNNING and not _is_due(j, now) for j in group):
                continue
            for job in group:
                job.status, job.claimed_at = SyncJob.Status.RUNNING, now
                job.attempts += 1
            SyncJob.objects.filter(pk__in=[j.pk for j in group]).update(
                status=SyncJob.Status.RUNNING, claimed_at=now, attempts=F("attempts") + 1
            )
            claimed.append(group)
        return claimed


class Sender:
    """Delivers claimed jobs with one client; caches tags, admins and the token's own admin."""

    def __init__(self, client: IntercomClient):
        self.client = client
        self._tag_ids: dict[str, str] | None = None
        self._teammates: dict[int, str] | None = None
        self._users_by_email: dict[str, int | None] = {}
        self._me_id: str | None = None

    # --- lookups, cached for one drain -----------------------------------------------------

    def tag_id(self, name: str) -> str:
        if self._tag_ids is None:
            self._tag_ids = {t["name"].lower(): str(t["id"]) for t in self.client.tags()}
        if name.lower() not in self._tag_ids:
            self._tag_ids[name.lower()] = str(self.client.tag_create(name)["id"])
        return self._tag_ids[name.lower()]

    def teammate_of(self, *, user_id: int | None = None, email: str | None = None) -> str | None:
        """The Intercom teammate a portal user writes as: only the stored mapping
        (`IntercomAdmin.portal_user`, made by `intercom_setup` and corrected in the admin), never
        an e-mail someone typed. Jobs name the user by id; a job that names them by e-mail only
        (recorded before ids, or by an app that does not pass one yet) finds the user by that
        address, which is unique, and then their mapping. A teammate's own e-mail is never
        matched. None when the user has no teammate (the caller writes as the app's admin)."""
        if self._teammates is None:
            self._teammates = dict(
                IntercomAdmin.objects.exclude(portal_user=None).values_list("portal_user_id", "intercom_id")
            )
        if user_id is None and email:
            key = email.strip().lower()
            if key not in self._users_by_email:
                from portal.models import User

                self._users_by_email[key] = (
                    User.objects.filter(email__iexact=key).values_list("pk", flat=True).first()
                )
            user_id = self._users_by_email[key]
        return self._teammates.get(user_id) if user_id is not None else None

    def _author(self, payload: dict) -> str:
        """Who a note or reply is written as: the author's teammate, else the app's own admin."""
        teammate = self.teammate_of(user_id=payload.get("author_id"), email=payload.get("author_email"))
        return teammate or self.me_id()

    def me_id(self) -> str:
        if self._me_id is None:
            self._me_id = str(self.client.me()["id"])
        return self._me_id

    # --- contacts --------------------------------------------------------------------------

    def contact_id(self, external_id: str, fields: dict | None = None) -> str:
        """The contact's Intercom id: the stored one, else `find_by_external_id`, else created.
        With `fields`, the contact is also brought up to date."""
        fields = fields or {}
        known = IntercomContact.objects.filter(external_id=external_id).first()
        if known is not None:
            try:
                if fields:
                    self.client.contact_update(known.intercom_id, fields)
                return known.intercom_id
            except IntercomNotFound:  # deleted or merged in Intercom: find it again
                known.delete()
        found = self.client.contact_find_by_external_id(external_id)
        if found is None:
            try:
                found = self.client.contact_create({"external_id": external_id, **fields})
                fields = {}
            except IntercomConflict:  # created by a worker that died before storing the id
                found = self.client.contact_find_by_external_id(external_id)
                if found is None:
                    raise
        if fields:
            self.client.contact_update(found["id"], fields)
        IntercomContact.objects.update_or_create(
            external_id=external_id, defaults={"intercom_id": found["id"], "synced_at": timezone.now()}
        )
        return found["id"]

    def upsert(self, job: SyncJob) -> None:
        payload = job.payload
        attributes = dict(payload.get("custom_attributes") or {})
        attributes["advanced_portal_url"] = settings.PORTAL_BASE_URL.rstrip("/") + payload.get(
            "portal_path", "/"
        )
        fields = {
            "email": payload.get("email") or None,
            "name": payload.get("name"),
            "custom_attributes": attributes,
        }
        owner = self.teammate_of(user_id=payload.get("owner_id"), email=payload.get("owner_email"))
        if owner:
            fields["owner_id"] = owner
        fields = {k: v for k, v in fields.items() if v is not None}
        contact_id = self.contact_id(payload["external_id"], fields)
        self._swap_tier_tag(payload["external_id"], contact_id, payload.get("tier_tag") or "")

    def _swap_tier_tag(self, external_id: str, contact_id: str, tag_name: str) -> None:
        link = IntercomContact.objects.get(external_id=external_id)
        new_id = self.tag_id(tag_name) if tag_name else ""
        if link.tier_tag_id == new_id:
            return
        if link.tier_tag_id:
            with contextlib.suppress(IntercomNotFound):  # already gone
                self.client.contact_untag(contact_id, link.tier_tag_id)
        if new_id:
            self.client.contact_tag(contact_id, new_id)
        link.tier_tag_id = new_id
        link.save(update_fields=["tier_tag_id"])

    def attributes(self, job: SyncJob) -> None:
        payload = job.payload
        self.contact_id(payload["external_id"], {"custom_attributes": payload.get("custom_attributes") or {}})

    def note(self, job: SyncJob) -> None:
        payload = job.payload
        contact_id = self.contact_id(payload["external_id"])
        marker = f"[portal {job.kind} {job.key}]"
        body = f"{payload['body']}\n{marker}"
        # A retry (automatic, or from the sync page, which starts the count again but keeps the
        # error) looks first: an earlier attempt may have got through before failing.
        if (job.attempts > 1 or job.last_error) and self._note_exists(contact_id, marker):
            return
        admin = self._author(payload)
        self.client.contact_note(contact_id, body=body, admin_id=admin)

    def _note_exists(self, contact_id: str, marker: str) -> bool:
        notes = self.client.request("GET", f"/contacts/{contact_id}/notes").get("data") or []
        return any(marker in (note.get("body") or "") for note in notes)

    def reply(self, job: SyncJob) -> None:
        """Read the conversation first (one call; replies are written by people, so rare): it
        must be the account's, and a reply with the same text from the same teammate means an
        earlier attempt got through (a timeout after Intercom stored it, or a manual retry)."""
        payload = job.payload
        conversation_id = str(payload["conversation_id"])
        admin = self._author(payload)
        body = reply_html(payload["body"])
        conversation = self.client.conversation_get(conversation_id)
        external_ids = {
            str(c.get("external_id") or "")
            for c in (conversation.get("contacts") or {}).get("contacts") or []
            if isinstance(c, dict)
        }
        if payload.get("external_id") and payload["external_id"] not in external_ids:
            raise IntercomError(
                f"Conversation {conversation_id} is not with this account's contact "
                f"({payload['external_id']}); not sent. Check the conversation linked to the case."
            )
        if _reply_in(conversation, admin, body):
            return
        self.client.conversation_reply(conversation_id, body=body, admin_id=admin)

    HANDLERS = {
        SyncJob.Kind.CONTACT_UPSERT: "upsert",
        SyncJob.Kind.CONTACT_ATTRIBUTES: "attributes",
        SyncJob.Kind.CONTACT_NOTE: "note",
        SyncJob.Kind.CONVERSATION_REPLY: "reply",
    }

    def deliver(self, job: SyncJob) -> None:
        handler = self.HANDLERS.get(job.kind)
        if handler is None:
            raise IntercomError(f"No sender for jobs of kind {job.kind!r}.")
        getattr(self, handler)(job)


def _reply_in(conversation: dict, admin_id: str, body: str) -> bool:
    parts = (conversation.get("conversation_parts") or {}).get("conversation_parts") or []
    wanted = _plain_text(body)
    return any(
        part.get("part_type") == "comment"
        and str((part.get("author") or {}).get("id")) == admin_id
        and _plain_text(part.get("body")) == wanted
        for part in parts
        if isinstance(part, dict)
    )


def reply_html(text: str) -> str:
    """Plain text as the HTML Intercom shows in a conversation: a paragraph per blank-line
    separated block, line breaks kept, everything escaped (the text is the specialist's)."""
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())]
    return "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in block.splitlines())}</p>" for block in blocks if block
    )


def _plain_text(body: str | None) -> str:
    """What a part says, without its markup, for comparing a sent reply with the one to send."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body or "")).split())


def _fail(job: SyncJob, error: Exception, now, report: DrainReport) -> None:
    job.failing_since = job.failing_since or now
    job.last_error = str(error)[:2000]
    job.claimed_at = None
    if now - job.failing_since >= DEAD_AFTER:
        job.status = SyncJob.Status.DEAD
        report.dead += 1
    else:
        job.status = SyncJob.Status.FAILED
        delay = min(RETRY_CAP, RETRY_BASE * 2 ** max(0, job.attempts - 1))
        job.next_attempt_at = now + delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
        report.failed += 1
    job.save(
        update_fields=["status", "failing_since", "last_error", "claimed_at", "next_attempt_at", "updated_at"]
    )


def _hold(job: SyncJob, until, reason: str) -> None:
    """A later job of a contact whose earlier job failed: it waits for that one."""
    job.status, job.claimed_at, job.next_attempt_at = SyncJob.Status.FAILED, None, until
    job.attempts = max(0, job.attempts - 1)
    job.last_error = reason
    job.save(
        update_fields=["status", "claimed_at", "next_attempt_at", "attempts", "last_error", "updated_at"]
    )


def _done(job: SyncJob, note: str = "") -> None:
    outbox_mark_delivered(job, note=note)


def deliver_group(sender: Sender, jobs: list[SyncJob], report: DrainReport) -> None:
    """One contact's jobs, oldest first; stop at the first failure."""
    newest_of = {(j.kind, j.key): j.pk for j in jobs}
    for index, job in enumerate(jobs):
        if newest_of[(job.kind, job.key)] != job.pk:
            _done(job, "Superseded by a newer change to the same object.")
            report.superseded += 1
            continue
        if job.payload_hash == job.last_delivered_hash:
            _done(job)
            report.skipped_unchanged += 1
            continue
        try:
            sender.deliver(job)
        except (IntercomError, KeyError, ValueError) as error:
            now = timezone.now()
            _fail(job, error, now, report)
            report.errors.append(f"{job.kind} {job.key}: {error}")
            for later in jobs[index + 1 :]:
                _hold(
                    later,
                    job.next_attempt_at or now,
                    f"Waiting for an earlier change to this contact ({job.kind} {job.key}).",
                )
            return
        _done(job)
        report.delivered += 1


def drain(
    *, client: IntercomClient | None = None, max_seconds: float = 50.0, max_contacts: int | None = None
) -> DrainReport:
    """Deliver due jobs until none is due, the time budget is spent or `max_contacts` were done."""
    report = DrainReport()
    if not settings.INTERCOM_ENABLED and client is None:
        report.errors.append("Intercom is not connected; jobs stay pending.")
        return report
    started = time.monotonic()
    own_client = client is None
    client = client or IntercomClient()
    sender = Sender(client)
    done_contacts = 0
    try:
        while time.monotonic() - started < max_seconds:
            groups = claim()
            if not groups:
                break
            for group in groups:
                deliver_group(sender, group, report)
                done_contacts += 1
            if max_contacts is not None and done_contacts >= max_contacts:
                break
    finally:
        report.calls = client.calls
        report.seconds = round(time.monotonic() - started, 3)
        if own_client:
            client.session.close()
    return report


def admins_sync(client: IntercomClient) -> tuple[int, int]:
    """Refresh the teammates from `GET /admins`, matching unmapped ones to portal users by
    e-mail. The only place an e-mail picks a teammate: an existing mapping (made here or edited
    by hand) is never changed, and no user is mapped twice. Returns (added, matched)."""
    from portal.models import User

    now = timezone.now()
    added = matched = 0
    users = {u.email.lower(): u for u in User.objects.exclude(email="") if u.email}
    taken = set(IntercomAdmin.objects.exclude(portal_user=None).values_list("portal_user_id", flat=True))
    for admin in client.admins():
        record, created = IntercomAdmin.objects.get_or_create(
            intercom_id=str(admin["id"]),
            defaults={"name": admin.get("name") or "", "email": admin.get("email") or "", "synced_at": now},
        )
        added += created
        record.name, record.email, record.synced_at = admin.get("name") or "", admin.get("email") or "", now
        user = users.get(record.email.lower())
        if record.portal_user_id is None and user is not None and user.pk not in taken:
            record.portal_user = user
            taken.add(user.pk)
            matched += 1
        record.save()
    return added, matched
