"""Conversations: seeded by tests (`add_conversation`), then retrieved, listed, searched and
replied to over HTTP."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from integrations.intercom.fake.bodies import _html_body, _plain_text
from integrations.intercom.fake.errors import _ApiError

MAX_CONVERSATION_PARTS = 500  # retrieving a conversation returns the 500 most recent parts


class Conversations:
    def add_conversation(
        self,
        contact_id: str | Iterable[str],
        body: str = "Hello, I need help.",
        *,
        title: str | None = None,
        state: str = "open",
        read: bool = False,
        priority: str = "none",
        admin_assignee_id: int = 0,
        team_assignee_id: int = 0,
        created_at: int | None = None,
        updated_at: int | None = None,
        custom_attributes: dict | None = None,
        subject: str = "",
        source_type: str = "conversation",
        searchable: bool = True,
    ) -> dict:
        """Seed a conversation started by the contact(s); returns its JSON as retrieved.
        `searchable=True` (the default) indexes it at once, as existing history would be."""
        contact_ids = [contact_id] if isinstance(contact_id, str) else list(contact_id)
        if state not in ("open", "closed", "snoozed"):
            raise ValueError(f"state must be open, closed or snoozed, not {state!r}")
        if priority not in ("none", "low", "medium", "high", "urgent"):
            raise ValueError(f"unknown 2.16 priority {priority!r}")
        with self._lock:
            missing = [c for c in contact_ids if c not in self._contacts]
            if not contact_ids or missing:
                raise ValueError(f"unknown contact ids: {missing or 'none given'}")
            author = self._contacts[contact_ids[0]]
            created = self._now() if created_at is None else int(created_at)
            conversation_id = str(215470000000000 + self._next())
            record = {
                "id": conversation_id,
                "created_at": created,
                "updated_at": created if updated_at is None else int(updated_at),
                "title": title,
                "state": state,
                "read": read,
                "priority": priority,
                "admin_assignee_id": int(admin_assignee_id),
                "team_assignee_id": int(team_assignee_id),
                "contact_ids": contact_ids,
                "waiting_since": created if state == "open" else None,
                "snoozed_until": None,
                "custom_attributes": dict(custom_attributes or {}),
                "tags": [],
                "teammate_ids": [],
                "parts": [],
                "source": {
                    "type": source_type,
                    "id": str(403918000 + self._next()),
                    "delivered_as": "customer_initiated",
                    "subject": subject,
                    "body": _html_body(body),
                    "author": {
                        "type": "user" if author["role"] == "user" else "lead",
                        "id": author["id"],
                        "name": author["name"],
                        "email": author["email"] or None,
                    },
                    "attachments": [],
                    "url": None,
                    "redacted": False,
                },
            }
            self._conversations[conversation_id] = record
            if searchable:
                self._index_now(self._conversation_index, conversation_id, record)
            else:
                self._index_later(self._conversation_index, conversation_id, record)
            return self._conversation_json(record, with_parts=True)

    def get_conversation(self, conversation_id: str) -> dict | None:
        with self._lock:
            record = self._conversations.get(conversation_id)
            return None if record is None else self._conversation_json(record, with_parts=True)

    def _conversation_or_404(self, conversation_id: str) -> dict:
        record = self._conversations.get(conversation_id)
        if record is None:
            raise _ApiError(404, "not_found", "Resource Not Found")
        return record

    def _conversation_json(self, record: dict, *, with_parts: bool, plaintext: bool = False) -> dict:
        def text(body: str | None) -> str | None:
            return _plain_text(body) if plaintext and body is not None else body

        source = copy.deepcopy(record["source"])
        source["body"] = text(source["body"])
        teammates = None
        if record["teammate_ids"]:
            teammates = {
                "type": "admin.list",
                "teammates": [{"type": "admin", "id": i} for i in record["teammate_ids"]],
            }
        conversation = {
            "type": "conversation",
            "id": record["id"],
            "created_at": record["created_at"],
            "updated_at": record["updated_at"],
            "waiting_since": record["waiting_since"],
            "snoozed_until": record["snoozed_until"],
            "source": source,
            "contacts": {
                "type": "contact.list",
                "contacts": [
                    {
                        "type": "contact",
                        "id": cid,
                        "external_id": (self._contacts.get(cid) or {}).get("external_id"),
                    }
                    for cid in record["contact_ids"]
                ],
            },
            "first_contact_reply": None,
            "admin_assignee_id": record["admin_assignee_id"],  # 2.16: 0 when unassigned, never null
            "team_assignee_id": record["team_assignee_id"],
            "open": record["state"] != "closed",
            "state": record["state"],
            "read": record["read"],
            "tags": {
                "type": "tag.list",
                "tags": [self._applied_tag(self._tags[t["id"]], t) for t in record["tags"]],
            },
            "priority": record["priority"],
            "sla_applied": None,
            "statistics": None,
            "conversation_rating": None,
            "teammates": teammates,
            "title": record["title"],
            "custom_attributes": copy.deepcopy(record["custom_attributes"]),
            "topics": {},
            "ticket": None,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
            "ai_agent": None,
            "ai_agent_participated": False,
        }
        if with_parts:
            parts = record["parts"][-MAX_CONVERSATION_PARTS:]
            conversation["conversation_parts"] = {
                "type": "conversation_part.list",
                "conversation_parts": [{**copy.deepcopy(p), "body": text(p["body"])} for p in parts],
                "total_count": len(record["parts"]),
            }
        return conversation

    def _get_conversation(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._conversation_or_404(params["conversation_id"])
        plaintext = query.get("display_as") == "plaintext"
        return 200, self._conversation_json(record, with_parts=True, plaintext=plaintext)

    def _list_conversations(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        per_page = self._per_page(query.get("per_page"), default=20)
        records = sorted(self._conversations.values(), key=lambda r: (r["updated_at"], r["id"]), reverse=True)
        return 200, self._conversation_list(records, per_page, query.get("starting_after"))

    def _search_conversations(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        predicate = self._compile_search(body, self._conversation_field)
        pagination = self._object(body, "pagination")
        per_page = self._per_page(pagination.get("per_page"), default=20)
        hits = sorted(
            (r for r in self._visible(self._conversation_index) if predicate(r)), key=lambda r: int(r["id"])
        )
        return 200, self._conversation_list(hits, per_page, pagination.get("starting_after"))

    def _conversation_list(self, records: list[dict], per_page: int, starting_after) -> dict:
        """A `conversation.list` page, as listing and search both answer (without parts)."""
        page, pages, total = self._paginate(records, per_page, starting_after)
        return {
            "type": "conversation.list",
            "conversations": [self._conversation_json(r, with_parts=False) for r in page],
            "total_count": total,
            "pages": pages,
        }

    def _reply_conversation(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        reply_type = body.get("type")
        message_type = body.get("message_type")
        if reply_type not in ("admin", "user"):
            raise _ApiError(400, "parameter_invalid", "type must be one of admin, user")
        now = self._now()
        if reply_type == "admin":
            if message_type not in ("comment", "note", "quick_reply"):
                raise _ApiError(
                    400, "parameter_invalid", "message_type must be one of comment, note, quick_reply"
                )
            if body.get("admin_id") is None:
                raise _ApiError(400, "parameter_not_found", "admin_id is a required parameter")
            record = self._conversation_or_404(params["conversation_id"])
            admin = self._admin_or_404(body["admin_id"], "admin_not_found", "Admin not found")
            author = {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}
        else:
            if message_type != "comment":
                raise _ApiError(400, "parameter_invalid", "message_type must be comment for a user reply")
            contact = self._reply_contact(body)
            if params["conversation_id"] == "last":
                mine = [r for r in self._conversations.values() if contact["id"] in r["contact_ids"]]
                if not mine:
                    raise _ApiError(404, "not_found", "Resource Not Found")
                record = max(mine, key=lambda r: (r["updated_at"], int(r["id"])))
            else:
                record = self._conversation_or_404(params["conversation_id"])
            author = {"type": "user", "id": contact["id"], "name": contact["name"]}
            if contact["email"]:
                author["email"] = contact["email"]
        text = body.get("body")
        if message_type in ("comment", "note") and (not isinstance(text, str) or not text.strip()):
            raise _ApiError(400, "parameter_not_found", "body is a required parameter")
        created = body.get("created_at") or now
        if isinstance(created, bool) or not isinstance(created, int):
            raise _ApiError(400, "parameter_invalid", "created_at must be a Unix timestamp in seconds")
        record["parts"].append(
            {
                "type": "conversation_part",
                "id": str(10000 + self._next()),
                "part_type": "note" if message_type == "note" else "comment",
                "body": _html_body(text) if isinstance(text, str) else None,
                "created_at": created,
                "updated_at": created,
                "notified_at": created,
                "assigned_to": None,
                "author": author,
                "attachments": [],
                "external_id": None,
                "redacted": False,
            }
        )
        record["updated_at"] = now
        if reply_type == "admin":
            if admin["id"] not in record["teammate_ids"]:
                record["teammate_ids"].append(admin["id"])
            if message_type != "note":
                record["waiting_since"] = None  # an admin answered: the customer no longer waits
        else:
            record["state"] = "open"
            record["read"] = False
            if record["waiting_since"] is None:
                record["waiting_since"] = created
        self._index_later(self._conversation_index, record["id"], record)
        return 200, self._conversation_json(record, with_parts=True)

    def _reply_contact(self, body: dict) -> dict:
        if body.get("intercom_user_id"):
            contact = self._contacts.get(str(body["intercom_user_id"]))
        elif body.get("user_id"):
            contact = next((c for c in self._contacts.values() if c["external_id"] == body["user_id"]), None)
        elif body.get("email"):
            contact = next((c for c in self._contacts.values() if c["email"] == body["email"]), None)
        else:
            raise _ApiError(400, "parameter_not_found", "intercom_user_id, user_id or email is required")
        if contact is None:
            raise _ApiError(404, "not_found", "User Not Found")
        return contact

    def _create_conversation(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        """`POST /conversations`: a contact starts a conversation (an in-app message). Returns the
        message, as 2.16 does; the conversation is searchable a moment later, as in Intercom."""
        sender = body.get("from")
        if (
            not isinstance(sender, dict)
            or not sender.get("id")
            or sender.get("type") not in ("lead", "user", "contact")
        ):
            raise _ApiError(
                400,
                "parameter_invalid",
                "from must be an object with a type of lead, user or contact and an id",
            )
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "parameter_not_found", "body is a required parameter")
        created = body.get("created_at")
        if created is not None and (isinstance(created, bool) or not isinstance(created, int)):
            raise _ApiError(400, "parameter_invalid", "created_at must be a Unix timestamp in seconds")
        if str(sender["id"]) not in self._contacts:
            raise _ApiError(404, "not_found", "User Not Found")
        conversation = self.add_conversation(  # the lock is re-entrant
            str(sender["id"]), text, created_at=created, subject=body.get("subject") or "", searchable=False
        )
        return 200, {
            "type": "user_message",
            "id": conversation["source"]["id"],
            "created_at": conversation["created_at"],
            "body": text,
            "message_type": "inapp",
            "conversation_id": conversation["id"],
        }

    def _manage_conversation(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        """`POST /conversations/{id}/parts`. The fake knows `assignment` (to an admin or a team;
        `0` unassigns); close, open and snooze are answered 400 as not supported by the fake."""
        if body.get("message_type") != "assignment":
            raise _ApiError(400, "parameter_invalid", "the fake supports message_type assignment only")
        kind = body.get("type")
        if kind not in ("admin", "team"):
            raise _ApiError(400, "parameter_invalid", "type must be one of admin, team")
        for name in ("admin_id", "assignee_id"):
            if body.get(name) is None:
                raise _ApiError(400, "parameter_not_found", f"{name} is a required parameter")
        record = self._conversation_or_404(params["conversation_id"])
        performer = self._admin_or_404(body["admin_id"], "admin_not_found", "Admin not found")
        assignee = str(body["assignee_id"])
        if assignee != "0":
            found = self._admins.get(assignee) if kind == "admin" else self._teams.get(assignee)
            if found is None:
                code = "admin_not_found" if kind == "admin" else "team_not_found"
                raise _ApiError(404, code, f"{kind.capitalize()} Not Found")
        field = "admin_assignee_id" if kind == "admin" else "team_assignee_id"
        record[field] = int(assignee)
        now = self._now()
        record["parts"].append(
            {
                "type": "conversation_part",
                "id": str(10000 + self._next()),
                "part_type": "assignment",
                "body": _html_body(body["body"]) if isinstance(body.get("body"), str) else None,
                "created_at": now,
                "updated_at": now,
                "notified_at": now,
                "assigned_to": None if assignee == "0" else {"type": kind, "id": assignee},
                "author": {
                    "type": "admin",
                    "id": performer["id"],
                    "name": performer["name"],
                    "email": performer["email"],
                },
                "attachments": [],
                "external_id": None,
                "redacted": False,
            }
        )
        record["updated_at"] = now
        self._index_later(self._conversation_index, record["id"], record)
        return 200, self._conversation_json(record, with_parts=True)
