"""Data attributes: the built-in ones seeded with the workspace, and the custom ones a contact's
`custom_attributes` may only use once they have been created."""

from __future__ import annotations

import unicodedata

from integrations.intercom.fake.errors import _ApiError
from integrations.intercom.fake.workspace import ME_ADMIN_ID

MAX_CUSTOM_ATTRIBUTES = 250


def _valid_attribute_name(name: str) -> bool:
    """Alphanumerics, currency symbols and hyphens (the documented rule), plus the spaces and
    underscores the spec's own examples use ("Mithril Shirt", "paid_subscriber")."""
    return bool(name.strip()) and all(
        ch.isalnum() or ch in " _-" or unicodedata.category(ch) == "Sc" for ch in name
    )


class DataAttributes:
    def add_data_attribute(self, name: str, data_type: str = "string", model: str = "contact") -> dict:
        """Create a custom data attribute as `POST /data_attributes` would; returns its JSON."""
        with self._lock:
            return self._create_data_attribute({"name": name, "data_type": data_type, "model": model})

    def _list_data_attributes(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        model = query.get("model")
        if model == "conversation":
            raise _ApiError(
                422,
                "parameter_invalid",
                "model=conversation is no longer supported. Use GET /conversations/attributes instead",
            )
        if model not in (None, "contact", "company"):
            raise _ApiError(
                400, "parameter_invalid", "The Data Attribute model field must be either contact or company"
            )
        include_archived = query.get("include_archived", "false").lower() == "true"
        data = [
            dict(a)
            for a in self._data_attributes
            if (model is None or a["model"] == model) and (include_archived or not a["archived"])
        ]
        return 200, {"type": "list", "data": data}

    def _post_data_attribute(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, self._create_data_attribute(body)

    def _create_data_attribute(self, body: dict) -> dict:
        for key in ("name", "model", "data_type"):
            if not body.get(key):
                raise _ApiError(400, "parameter_not_found", f"{key} is a required parameter")
        name, model, data_type = body["name"], body["model"], body["data_type"]
        if model not in ("contact", "company"):
            raise _ApiError(
                400, "parameter_invalid", "The Data Attribute model field must be either contact or company"
            )
        if not isinstance(name, str) or not _valid_attribute_name(name):
            raise _ApiError(
                400,
                "parameter_invalid",
                "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens",
            )
        if data_type not in ("string", "integer", "float", "boolean", "datetime", "date", "options"):
            raise _ApiError(400, "parameter_invalid", "Data Type isn't an option")
        options = body.get("options")
        if data_type == "options" and (not isinstance(options, list) or len(options) < 2):
            raise _ApiError(400, "parameter_invalid", "A list attribute needs at least two options")
        words = {"contact": "people", "company": "company"}
        for existing in self._data_attributes:
            if existing["name"].lower() == name.lower():
                raise _ApiError(
                    400,
                    "parameter_invalid",
                    f"You already have '{existing['name']}' in your {words[existing['model']]} data. "
                    f"To save this as new {words[model]} data, use a different name.",
                )
        if (
            sum(1 for a in self._data_attributes if a["custom"] and not a["archived"])
            >= MAX_CUSTOM_ATTRIBUTES
        ):
            raise _ApiError(
                400, "parameter_invalid", "You have reached the limit of 250 custom data attributes"
            )
        now = self._now()
        attribute = {
            "id": 30 + self._next(),
            "type": "data_attribute",
            "name": name,
            "full_name": f"custom_attributes.{name}",
            "label": name,
            "description": body.get("description") or "",
            # The response enum has no datetime or options: those come back as date and string.
            "data_type": {"datetime": "date", "options": "string"}.get(data_type, data_type),
            "api_writable": True,
            "ui_writable": False,
            "messenger_writable": bool(body.get("messenger_writable", False)),
            "custom": True,
            "archived": False,
            "admin_id": ME_ADMIN_ID,
            "created_at": now,
            "updated_at": now,
            "model": model,
        }
        if data_type == "options":
            attribute["options"] = [str((o or {}).get("value")) for o in options]
        self._data_attributes.append(attribute)
        return dict(attribute)
