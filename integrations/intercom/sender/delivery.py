"""Delivering each kind of job: the `Sender` and its reply helpers."""

import contextlib
import html
import re

from django.conf import settings
from django.utils import timezone

from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import IntercomConflict, IntercomError, IntercomNotFound
from integrations.models import IntercomAdmin, IntercomContact, SyncJob


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

    def message(self, job: SyncJob) -> None:
        """A message the owner starts with one account (the radar's proactive heads-up), opened as
        a conversation. A retry looks first for the conversation an earlier attempt may have opened
        (the same text from the same teammate with this contact since the job was recorded)."""
        payload = job.payload
        contact_id = self.contact_id(payload["external_id"])
        admin = self._author(payload)
        body = reply_html(payload["body"])
        if (job.attempts > 1 or job.last_error) and self._message_sent(contact_id, admin, body, job):
            return
        self.client.message_create(
            contact_id, body=body, admin_id=admin, subject=payload.get("subject") or ""
        )

    def _message_sent(self, contact_id: str, admin: str, body: str, job: SyncJob) -> bool:
        since = int(job.created_at.timestamp()) - 60
        query = {
            "operator": "AND",
            "value": [
                {"field": "contact_ids", "operator": "=", "value": contact_id},
                {"field": "created_at", "operator": ">", "value": since},
            ],
        }
        wanted = _plain_text(body)
        return any(
            str(((c.get("source") or {}).get("author") or {}).get("id")) == admin
            and _plain_text((c.get("source") or {}).get("body")) == wanted
            for c in self.client.conversations_search(query)
        )

    def assign(self, job: SyncJob) -> None:
        """Routing's decision carried out in Intercom: the rule's tags, the team the rule named,
        then the chosen person's teammate. A conversation someone assigned to another teammate in Intercom
        meanwhile is theirs and is left alone; one already assigned as decided needs no call."""
        payload = job.payload
        conversation_id = str(payload["conversation_id"])
        admin = self.teammate_of(user_id=payload["assignee_id"]) if payload.get("assignee_id") else None
        if payload.get("assignee_id") and admin is None:
            raise IntercomError(
                "The chosen specialist has no Intercom teammate: run intercom_setup (it matches "
                "teammates by e-mail) or map them in the admin, then retry."
            )
        conversation = self.client.conversation_get(conversation_id)
        self._tag_conversation(conversation, payload.get("tags") or ())
        current_admin = str(conversation.get("admin_assignee_id") or 0)
        if current_admin not in ("0", str(admin or 0)):
            return  # reassigned by a person in Intercom: theirs wins
        team = str(payload.get("team_intercom_id") or "")
        if team and str(conversation.get("team_assignee_id") or 0) != team:
            self.client.conversation_assign(
                conversation_id, kind="team", assignee_id=team, admin_id=self.me_id()
            )
        if admin and current_admin != admin:
            self.client.conversation_assign(
                conversation_id, kind="admin", assignee_id=admin, admin_id=self.me_id()
            )

    def _tag_conversation(self, conversation: dict, names) -> None:
        """The rule's tags the conversation does not carry yet (a retry adds none twice)."""
        carried = {str(t.get("name", "")).lower() for t in (conversation.get("tags") or {}).get("tags", [])}
        for name in dict.fromkeys(n for n in names if n and n.lower() not in carried):
            self.client.conversation_tag(conversation["id"], tag_id=self.tag_id(name), admin_id=self.me_id())

    HANDLERS = {
        SyncJob.Kind.CONTACT_UPSERT: "upsert",
        SyncJob.Kind.CONTACT_ATTRIBUTES: "attributes",
        SyncJob.Kind.CONTACT_NOTE: "note",
        SyncJob.Kind.CONVERSATION_REPLY: "reply",
        SyncJob.Kind.CONVERSATION_ASSIGN: "assign",
        SyncJob.Kind.CONTACT_MESSAGE: "message",
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
