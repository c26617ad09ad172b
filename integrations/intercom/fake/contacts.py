"""Contacts: create, retrieve, update, delete, find by external id, list and search.

A contact without an e-mail address has `email: ""`, since the schema types it as a non-null string.
"""

from __future__ import annotations

import copy
from typing import Any

from integrations.intercom.fake.errors import _ApiError
from integrations.intercom.fake.workspace import APP_ID_CODE

MAX_INLINE_ITEMS = 10  # a contact inlines at most 10 tags / notes / companies


class Contacts:
    def add_contact(self, *, searchable: bool = True, **fields: Any) -> dict:
        """Create a contact as `POST /contacts` would (same validation); returns its JSON.
        `searchable=True` (the default) indexes it at once, as if it had been there for a while."""
        with self._lock:
            contact = self._create_contact(fields)
            if searchable:
                self._index_now(self._contact_index, contact["id"], self._contacts[contact["id"]])
            return contact

    def get_contact(self, contact_id: str) -> dict | None:
        with self._lock:
            record = self._contacts.get(contact_id)
            return None if record is None else self._contact_json(record)

    def contacts(self) -> list[dict]:
        with self._lock:
            return [self._contact_json(r) for r in self._contacts.values()]

    def _contact_or_404(self, contact_id: str) -> dict:
        record = self._contacts.get(contact_id)
        if record is None:
            raise _ApiError(404, "not_found", "User Not Found")
        return record

    def _new_contact_id(self) -> str:
        # Mongo-ObjectId-like, as Intercom's: 8 hex digits of creation time, then 16 more.
        return f"{self._now() & 0xFFFFFFFF:08x}1bb69f9f{self._next():08x}"

    def _check_custom_attributes(self, values: Any) -> dict:
        if values is None:
            return {}
        if not isinstance(values, dict):
            raise _ApiError(400, "parameter_invalid", "custom_attributes must be an object")
        known = {a["name"] for a in self._data_attributes if a["model"] == "contact" and a["custom"]}
        for name in values:
            if name not in known:
                # Real Intercom refuses attributes not created first through POST /data_attributes.
                # The spec does not document this 400; parameter_not_found is its code for a name
                # that does not exist.
                raise _ApiError(400, "parameter_not_found", f"Custom attribute '{name}' does not exist")
        return values

    def _check_contact_fields(self, body: dict, *, existing: dict | None) -> None:
        if "role" in body and body["role"] not in ("user", "lead"):
            raise _ApiError(400, "parameter_invalid", "role must be one of user, lead")
        if existing is not None and existing["role"] == "user" and body.get("role") == "lead":
            raise _ApiError(400, "client_error", "Contact with user role can't be converted to a lead")
        if "email_verified" in body and "email" not in body:
            raise _ApiError(400, "parameter_invalid", "email_verified can only be set together with email")
        for key in ("email", "external_id", "name", "phone", "avatar"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise _ApiError(400, "parameter_invalid", f"{key} must be a string")
        email = body.get("email")
        if email and ("@" not in email or " " in email.strip()):
            raise _ApiError(400, "parameter_invalid", f"{email} is not a valid email address")
        owner = body.get("owner_id")
        if owner is not None and str(owner) not in self._admins:
            raise _ApiError(400, "parameter_invalid", "The owner specified is not a member of the workspace")
        for key in ("signed_up_at", "last_seen_at"):
            value = body.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise _ApiError(400, "parameter_invalid", f"{key} must be a Unix timestamp in seconds")
        self._check_custom_attributes(body.get("custom_attributes"))
        external_id = body.get("external_id")
        role = body.get("role", existing["role"] if existing else "user")
        if existing is not None and "email" not in body and role == "user":
            email = existing["email"]  # a lead becoming a user keeps its e-mail address
        clashes = [
            self._by_external_id.get(external_id) if external_id else None,
            self._users_by_email.get(email.lower()) if email and role == "user" else None,
        ]
        for other_id in clashes:
            if other_id is not None and (existing is None or other_id != existing["id"]):
                raise _ApiError(
                    409, "conflict", f"A contact matching those details already exists with id={other_id}"
                )

    def _create_contact(self, body: dict) -> dict:
        if not any(body.get(k) for k in ("email", "external_id", "role")):
            # The request schema's anyOf: at least one of email, external_id, role.
            raise _ApiError(
                400, "parameter_invalid", "Contact must have at least one of email, external_id or role"
            )
        self._check_contact_fields(body, existing=None)
        now = self._now()
        role = body.get("role", "user")
        record = {
            "id": self._new_contact_id(),
            "seq": self._next(),
            "role": role,
            "external_id": body.get("external_id"),
            "email": body.get("email") or "",
            "phone": body.get("phone"),
            "name": body.get("name"),
            "avatar": body.get("avatar"),
            "owner_id": None if body.get("owner_id") is None else str(body["owner_id"]),
            "unsubscribed_from_emails": bool(body.get("unsubscribed_from_emails") or False),
            "signed_up_at": body.get("signed_up_at", now if role == "user" else None),
            "last_seen_at": body.get("last_seen_at"),
            "created_at": now,
            "updated_at": now,
            "custom_attributes": {
                k: v for k, v in (body.get("custom_attributes") or {}).items() if v is not None
            },
            "tags": [],
            "note_ids": [],
        }
        self._contacts[record["id"]] = record
        self._register_keys(record)
        self._index_later(self._contact_index, record["id"], record)
        return self._contact_json(record)

    def _register_keys(self, record: dict) -> None:
        """Index the unique keys: external_id (any role) and the e-mail address of a user."""
        if record["external_id"]:
            self._by_external_id[record["external_id"]] = record["id"]
        if record["role"] == "user" and record["email"]:
            self._users_by_email[record["email"].lower()] = record["id"]

    def _unregister_keys(self, record: dict) -> None:
        for index, key in (
            (self._by_external_id, record["external_id"]),
            (self._users_by_email, (record["email"] or "").lower()),
        ):
            if key and index.get(key) == record["id"]:
                del index[key]

    def _apply_contact_update(self, record: dict, body: dict) -> None:
        for key in ("role", "external_id", "phone", "name", "avatar", "signed_up_at", "last_seen_at"):
            if key in body:
                record[key] = body[key]
        if "email" in body:
            record["email"] = body["email"] or ""
        if "owner_id" in body:
            record["owner_id"] = None if body["owner_id"] is None else str(body["owner_id"])
        if "unsubscribed_from_emails" in body:
            record["unsubscribed_from_emails"] = bool(body["unsubscribed_from_emails"])
        for name, value in (body.get("custom_attributes") or {}).items():
            if value is None:
                record["custom_attributes"].pop(name, None)
            else:
                record["custom_attributes"][name] = value
        record["updated_at"] = self._now()

    def _contact_json(self, record: dict) -> dict:
        cid = record["id"]
        email = record["email"] or ""

        def addressable(kind: str, ids: list[str], url: str) -> dict:
            return {
                "type": "list",
                "data": [{"type": kind, "id": i, "url": f"/{kind}s/{i}"} for i in ids[:MAX_INLINE_ITEMS]],
                "url": url,
                "total_count": len(ids),
                "has_more": len(ids) > MAX_INLINE_ITEMS,
            }

        subscriptions = {
            "type": "list",
            "data": [],
            "url": f"/contacts/{cid}/subscriptions",
            "total_count": 0,
            "has_more": False,
        }
        return {
            "type": "contact",
            "id": cid,
            "workspace_id": APP_ID_CODE,
            "external_id": record["external_id"],
            "role": record["role"],
            # The schema types email as a non-nullable string; a contact without one gets "".
            "email": email,
            "email_domain": email.rsplit("@", 1)[-1] if "@" in email else "",
            "phone": record["phone"],
            "name": record["name"],
            "avatar": {"type": "avatar", "image_url": record["avatar"]} if record["avatar"] else None,
            "owner_id": record["owner_id"],
            "social_profiles": {"type": "list", "data": []},
            "has_hard_bounced": False,
            "marked_email_as_spam": False,
            "unsubscribed_from_emails": record["unsubscribed_from_emails"],
            "created_at": record["created_at"],
            "updated_at": record["updated_at"],
            "signed_up_at": record["signed_up_at"],
            "last_seen_at": record["last_seen_at"],
            "last_replied_at": None,
            "last_contacted_at": None,
            "last_email_opened_at": None,
            "last_email_clicked_at": None,
            "language_override": None,
            "browser": None,
            "browser_version": None,
            "browser_language": None,
            "os": None,
            "location": {
                "type": "location",
                "country": None,
                "region": None,
                "city": None,
                "country_code": None,
                "continent_code": None,
            },
            "android_app_name": None,
            "android_app_version": None,
            "android_device": None,
            "android_os_version": None,
            "android_sdk_version": None,
            "android_last_seen_at": None,
            "ios_app_name": None,
            "ios_app_version": None,
            "ios_device": None,
            "ios_os_version": None,
            "ios_sdk_version": None,
            "ios_last_seen_at": None,
            "custom_attributes": copy.deepcopy(record["custom_attributes"]),
            "tags": addressable("tag", [t["id"] for t in record["tags"]], f"/contacts/{cid}/tags"),
            "notes": addressable("note", list(reversed(record["note_ids"])), f"/contacts/{cid}/notes"),
            "companies": {
                "type": "list",
                "data": [],
                "url": f"/contacts/{cid}/companies",
                "total_count": 0,
                "has_more": False,
            },
            "opted_out_subscription_types": dict(subscriptions),
            "opted_in_subscription_types": dict(subscriptions),
            "utm_campaign": None,
            "utm_content": None,
            "utm_medium": None,
            "utm_source": None,
            "utm_term": None,
            "referrer": None,
            "enabled_push_messaging": None,
        }

    def _post_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, self._create_contact(body)

    def _get_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, self._contact_json(self._contact_or_404(params["contact_id"]))

    def _put_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        self._check_contact_fields(body, existing=record)
        self._unregister_keys(record)
        self._apply_contact_update(record, body)
        self._register_keys(record)
        self._index_later(self._contact_index, record["id"], record)
        return 200, self._contact_json(record)

    def _delete_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        del self._contacts[record["id"]]
        self._unregister_keys(record)
        self._index_later(self._contact_index, record["id"], None)
        return 200, {
            "type": "contact",
            "id": record["id"],
            "external_id": record["external_id"],
            "deleted": True,
        }

    def _find_by_external_id(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contacts.get(self._by_external_id.get(params["external_id"], ""))
        # "This endpoint only supports users and not leads."
        if record is not None and record["role"] == "user":
            return 200, self._contact_json(record)
        raise _ApiError(404, "not_found", "User Not Found")

    def _list_contacts(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        per_page = self._per_page(query.get("per_page"), default=50)
        records = sorted(self._contacts.values(), key=lambda r: r["seq"])
        page, pages, total = self._paginate(records, per_page, query.get("starting_after"))
        return 200, {
            "type": "list",
            "data": [self._contact_json(r) for r in page],
            "total_count": total,
            "pages": pages,
        }

    def _search_contacts(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        predicate = self._compile_search(body, self._contact_field)
        sort = self._object(body, "sort")
        order = sort.get("order", "descending")
        if order not in ("ascending", "descending"):
            raise _ApiError(
                400,
                "invalid_sort_order",
                f"Invalid sort order '{order}'. Must be one of: ascending, descending",
            )
        pagination = self._object(body, "pagination")
        per_page = self._per_page(pagination.get("per_page"), default=50)
        hits = [r for r in self._visible(self._contact_index) if predicate(r)]
        hits.sort(key=lambda r: r["seq"])
        if sort.get("field"):
            hits = self._sorted_by(hits, sort["field"], descending=order == "descending")
        page, pages, total = self._paginate(hits, per_page, pagination.get("starting_after"))
        return 200, {
            "type": "list",
            "data": [self._contact_json(r) for r in page],
            "total_count": total,
            "pages": pages,
        }

    def _sorted_by(self, records: list[dict], field: str, *, descending: bool) -> list[dict]:
        def value(record: dict) -> Any:
            kind, got = self._contact_field(record, field)
            return got if kind != "list" else None

        present = [r for r in records if value(r) is not None]
        absent = [r for r in records if value(r) is None]
        try:
            present.sort(key=value, reverse=descending)
        except TypeError:
            present.sort(key=lambda r: str(value(r)), reverse=descending)
        return present + absent
