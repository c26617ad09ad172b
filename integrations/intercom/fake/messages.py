"""`POST /messages`: a message a teammate starts (in-app or e-mail), as the spec's
`create_message_request` describes it. With `create_conversation_without_contact_reply` the fake
opens the conversation at once (searchable a moment later, as in Intercom) and answers its id."""

from __future__ import annotations

from integrations.intercom.fake.bodies import _html_body
from integrations.intercom.fake.errors import _ApiError

MESSAGE_TYPES = ("in_app", "inapp", "email")  # the enum says in_app; the spec's examples send inapp


class Messages:
    def _create_message(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        message_type = body.get("message_type")
        if message_type not in MESSAGE_TYPES:
            raise _ApiError(400, "parameter_invalid", "message_type must be one of in_app, email")
        sender = body.get("from")
        if not isinstance(sender, dict) or sender.get("type") != "admin" or not sender.get("id"):
            raise _ApiError(400, "parameter_invalid", "from must be an admin with an id")
        admin = self._admin_or_404(sender["id"], "admin_not_found", "Admin not found")
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "parameter_invalid", "Body is required")
        subject = body.get("subject") or ""
        if message_type == "email" and not subject:
            raise _ApiError(422, "parameter_not_found", "No subject supplied for email message")
        recipients = body.get("to")
        recipients = recipients if isinstance(recipients, list) else [recipients]
        contact_ids = []
        for recipient in recipients:
            if not isinstance(recipient, dict) or recipient.get("type") not in ("user", "lead", "contact"):
                raise _ApiError(400, "parameter_invalid", "to must name contacts by type and id")
            if str(recipient.get("id")) not in self._contacts:
                raise _ApiError(404, "not_found", "User Not Found")
            contact_ids.append(str(recipient["id"]))
        created = self._now()
        answer = {
            "type": "admin_message",
            "id": str(403918000 + self._next()),
            "created_at": created,
            "subject": subject,
            "body": text,
            "message_type": "inapp" if message_type == "in_app" else message_type,
            "owner": {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]},
        }
        if body.get("create_conversation_without_contact_reply"):
            with self._lock:
                conversation = self.add_conversation(contact_ids, text, subject=subject, searchable=False)
                record = self._conversations[conversation["id"]]
                record["waiting_since"] = None  # the teammate wrote last
                record["teammate_ids"].append(admin["id"])
                record["source"].update(
                    delivered_as="admin_initiated",
                    body=_html_body(text),
                    author={
                        "type": "admin",
                        "id": admin["id"],
                        "name": admin["name"],
                        "email": admin["email"],
                    },
                )
                self._index_later(self._conversation_index, record["id"], record)
            answer["conversation_id"] = conversation["id"]
        return 200, answer
