"""Notes: what an admin writes on a contact."""

from __future__ import annotations

from integrations.intercom.fake.bodies import _html_body
from integrations.intercom.fake.errors import _ApiError
from integrations.intercom.fake.workspace import ME_ADMIN_ID


class Notes:
    def _note_json(self, note: dict) -> dict:
        admin = self._admins.get(note["author_id"])
        author = {
            k: admin[k] for k in ("type", "id", "name", "email", "away_mode_enabled", "away_mode_reassign")
        }
        return {
            "type": "note",
            "id": note["id"],
            "created_at": note["created_at"],
            "contact": {"type": "contact", "id": note["contact_id"]},
            "author": author,
            "body": note["body"],
        }

    def _create_note(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        # The spec types this path's contact_id as an integer; real ids are 24-hex strings.
        record = self._contact_or_404(params["contact_id"])
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "parameter_not_found", "body is a required parameter")
        admin_id = body.get("admin_id", ME_ADMIN_ID)  # without admin_id the token's admin writes it
        self._admin_or_404(admin_id)
        note = {
            "id": str(self._next()),
            "created_at": self._now(),
            "contact_id": record["id"],
            "author_id": str(admin_id),
            "body": _html_body(text),
        }
        self._notes[note["id"]] = note
        record["note_ids"].append(note["id"])
        return 200, self._note_json(note)

    def _list_notes(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        notes = [self._note_json(self._notes[n]) for n in reversed(record["note_ids"])]
        pages = {"type": "pages", "next": None, "page": 1, "per_page": 50, "total_pages": 1}
        return 200, {"type": "list", "data": notes, "total_count": len(notes), "pages": pages}

    def _get_note(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        note = self._notes.get(params["note_id"])
        if note is None:
            raise _ApiError(404, "not_found", "Resource Not Found")
        return 200, self._note_json(note)
