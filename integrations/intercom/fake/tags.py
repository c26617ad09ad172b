"""Tags: the workspace's tags (created, renamed, listed) and the tags applied to a contact."""

from __future__ import annotations

from typing import Any

from integrations.intercom.fake.errors import _ApiError
from integrations.intercom.fake.workspace import ME_ADMIN_ID


class Tags:
    def _tag_or_404(self, tag_id: Any) -> dict:
        tag = self._tags.get(str(tag_id)) if tag_id is not None else None
        if tag is None:
            raise _ApiError(404, "not_found", "Resource Not Found")
        return tag

    def _tag_basic(self, tag: dict) -> dict:
        return {"type": "tag", "id": tag["id"], "name": tag["name"]}

    def _applied_tag(self, tag: dict, applied: dict | None) -> dict:
        return {
            **self._tag_basic(tag),
            "applied_at": applied["applied_at"] if applied else None,
            "applied_by": {"type": "admin", "id": applied["applied_by"]} if applied else None,
        }

    def _list_tags(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, {"type": "list", "data": [self._tag_basic(t) for t in self._tags.values()]}

    def _get_tag(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, self._tag_basic(self._tag_or_404(params["tag_id"]))

    def _post_tag(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, "parameter_invalid", "invalid tag parameters")
        if "companies" in body:
            # Companies are not modelled by the fake; refuse loudly rather than pretend.
            raise _ApiError(400, "parameter_invalid", "The fake Intercom does not model companies")
        if body.get("id") is not None:  # rename
            tag = self._tag_or_404(body["id"])
            tag["name"] = name
            return 200, self._tag_basic(tag)
        tag = next((t for t in self._tags.values() if t["name"].lower() == name.lower()), None)
        if tag is None:  # names are case-insensitive: an existing name returns that tag
            tag = {"id": str(100 + self._next()), "name": name}
            self._tags[tag["id"]] = tag
        response = self._tag_basic(tag)
        users = body.get("users")
        if users is not None:
            if not isinstance(users, list):
                raise _ApiError(400, "parameter_invalid", "invalid tag parameters")
            results = []
            for user in users:
                record = self._contacts.get(str((user or {}).get("id")))
                if record is None:
                    raise _ApiError(404, "not_found", "User Not Found")
                self._apply_tag(record, tag)
                results.append({"id": record["id"], "tagged": True})
            response["users"] = results
        return 200, response

    def _apply_tag(self, record: dict, tag: dict) -> dict:
        applied = next((t for t in record["tags"] if t["id"] == tag["id"]), None)
        if applied is None:
            applied = {"id": tag["id"], "applied_at": self._now(), "applied_by": ME_ADMIN_ID}
            record["tags"].append(applied)
            self._index_later(self._contact_index, record["id"], record)
        return applied

    def _list_contact_tags(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        data = [self._applied_tag(self._tags[t["id"]], t) for t in record["tags"] if t["id"] in self._tags]
        return 200, {"type": "list", "data": data}

    def _tag_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        if body.get("id") is None:
            raise _ApiError(400, "parameter_not_found", "id is a required parameter")
        tag = self._tag_or_404(body["id"])
        return 200, self._applied_tag(tag, self._apply_tag(record, tag))

    def _tag_conversation(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        """`POST /conversations/{id}/tags`: `id` (the tag) and `admin_id` are required."""
        for name in ("id", "admin_id"):
            if body.get(name) is None:
                raise _ApiError(400, "parameter_not_found", f"{name} is a required parameter")
        record = self._conversation_or_404(params["conversation_id"])
        self._admin_or_404(body["admin_id"], "admin_not_found", "Admin not found")
        tag = self._tag_or_404(body["id"])
        applied = next((t for t in record["tags"] if t["id"] == tag["id"]), None)
        if applied is None:
            applied = {"id": tag["id"], "applied_at": self._now(), "applied_by": str(body["admin_id"])}
            record["tags"].append(applied)
            record["updated_at"] = self._now()
            self._index_later(self._conversation_index, record["id"], record)
        return 200, self._applied_tag(tag, applied)

    def _untag_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        tag = self._tag_or_404(params["tag_id"])
        applied = next((t for t in record["tags"] if t["id"] == tag["id"]), None)
        if applied is not None:
            record["tags"].remove(applied)
            self._index_later(self._contact_index, record["id"], record)
        # Untagging a contact that does not carry the tag answers 200 with the tag, unapplied.
        return 200, self._applied_tag(tag, applied)
