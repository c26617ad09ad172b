"""Search: the index, eventually consistent like the real one (a change becomes searchable
`search_delay_seconds` after it is made), and the query language of `POST /contacts/search` and
`POST /conversations/search` (fields, operators, nesting, dates by calendar day)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from integrations.intercom.fake.bodies import _plain_text
from integrations.intercom.fake.errors import _ApiError

MAX_FILTERS_PER_GROUP = 15

MAX_NESTING = 2

_SEARCH_OPERATORS = {"=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"}
_STRING_OPERATORS = {"~", "!~", "^", "$"}
_ORDER_OPERATORS = {"<", "<=", ">", ">="}


class Search:
    def flush_search_index(self) -> None:
        """Make every pending change searchable now (the index catches up)."""
        with self._lock:
            for index in (self._contact_index, self._conversation_index):
                for key, entries in index.items():
                    index[key] = [(float("-inf"), entries[-1][1])] if entries else []

    def _index_later(self, index: dict, key: str, record: dict | None) -> None:
        visible_at = self.clock() + float(self.search_delay_seconds)
        index.setdefault(key, []).append((visible_at, copy.deepcopy(record)))

    def _index_now(self, index: dict, key: str, record: dict | None) -> None:
        index[key] = [(float("-inf"), copy.deepcopy(record))]

    def _visible(self, index: dict) -> list[dict]:
        now = self.clock()
        visible = []
        for entries in index.values():
            current = [i for i, (visible_at, _) in enumerate(entries) if visible_at <= now]
            if current:
                del entries[: current[-1]]  # older versions can never be seen again
                if entries[0][1] is not None:
                    visible.append(entries[0][1])
        return visible

    _CONTACT_DATES = frozenset(
        {
            "created_at",
            "signed_up_at",
            "updated_at",
            "last_seen_at",
            "last_contacted_at",
            "last_replied_at",
            "last_email_opened_at",
            "last_email_clicked_at",
            "ios_last_seen_at",
            "android_last_seen_at",
        }
    )
    _CONTACT_STRINGS = frozenset(
        {
            "id",
            "role",
            "name",
            "avatar",
            "owner_id",
            "email",
            "email_domain",
            "phone",
            "formatted_phone",
            "external_id",
            "language_override",
            "browser",
            "browser_language",
            "os",
            "location.country",
            "location.region",
            "location.city",
            "ios_app_version",
            "ios_device",
            "ios_app_device",
            "ios_os_version",
            "ios_app_name",
            "ios_sdk_version",
            "android_app_version",
            "android_device",
            "android_app_name",
            "andoid_sdk_version",  # sic, as the spec spells it
        }
    )
    _CONTACT_BOOLEANS = frozenset({"unsubscribed_from_emails", "marked_email_as_spam", "has_hard_bounced"})

    def _contact_field(self, record: dict, field: str) -> tuple[str, Any]:
        """(kind, value) of a searchable contact field; kind is date, string, integer, boolean or list."""
        if field.startswith("custom_attributes."):
            name = field.removeprefix("custom_attributes.")
            attribute = next(
                (
                    a
                    for a in self._data_attributes
                    if a["model"] == "contact" and a["custom"] and a["name"] == name
                ),
                None,
            )
            if attribute is None:
                raise _ApiError(400, "parameter_invalid", f"Custom attribute '{name}' does not exist")
            kind = {"date": "date", "integer": "integer", "float": "integer", "boolean": "boolean"}.get(
                attribute["data_type"], "string"
            )
            return kind, record["custom_attributes"].get(name)
        if field == "tag_id":
            return "tag_list", [t["id"] for t in record["tags"]]
        if field == "segment_id":
            return "list", []
        if field in self._CONTACT_DATES:
            return "date", record.get(field)
        if field in self._CONTACT_BOOLEANS:
            return "boolean", record.get(field, False)
        if field in self._CONTACT_STRINGS:
            if field == "email_domain":
                email = record["email"] or ""
                return "string", email.rsplit("@", 1)[-1] if "@" in email else None
            if field == "formatted_phone":
                return "string", record.get("phone")
            return "string", record.get(field) or None
        raise _ApiError(400, "parameter_invalid", f"'{field}' is not a searchable contact field")

    _CONVERSATION_DATES = frozenset({"created_at", "updated_at", "waiting_since", "snoozed_until"})

    def _conversation_field(self, record: dict, field: str) -> tuple[str, Any]:
        if field in self._CONVERSATION_DATES:
            return "cdate", record.get(field)
        if field in ("id", "state", "priority", "title"):
            return "string", record.get(field)
        if field in ("admin_assignee_id", "team_assignee_id"):
            return "integer", record.get(field)
        if field in ("open", "read"):
            return "boolean", record["state"] != "closed" if field == "open" else record["read"]
        if field == "contact_ids":
            return "list", list(record["contact_ids"])
        if field == "teammate_ids":
            return "list", list(record["teammate_ids"])
        if field == "tag_ids":
            return "list", [t["id"] for t in record["tags"]]
        if field.startswith("source."):
            value: Any = record["source"]
            for part in field.split(".")[1:]:
                value = value.get(part) if isinstance(value, dict) else None
            if field == "source.body":
                return "words", value
            return "string", value
        if field.startswith("custom_attributes."):
            return "string", record["custom_attributes"].get(field.removeprefix("custom_attributes."))
        raise _ApiError(400, "parameter_invalid", f"'{field}' is not a searchable conversation field")

    def _compile_search(
        self, body: dict, field_of: Callable[[dict, str], tuple[str, Any]]
    ) -> Callable[[dict], bool]:
        query = body.get("query")
        if not isinstance(query, dict):
            raise _ApiError(400, "parameter_not_found", "query is a required parameter")
        tz = ZoneInfo(self.workspace_timezone)
        return self._compile_node(query, field_of, tz, depth=0)

    def _compile_node(
        self, node: Any, field_of: Callable, tz: ZoneInfo, depth: int
    ) -> Callable[[dict], bool]:
        # The codes of these 400s are not documented; parameter_invalid is the spec's code for bad input.
        if not isinstance(node, dict):
            raise _ApiError(400, "parameter_invalid", "Each filter must be an object")
        operator = node.get("operator")
        if operator in ("AND", "OR") and "field" not in node:
            if depth >= MAX_NESTING:
                raise _ApiError(
                    400, "parameter_invalid", "Queries can nest at most 2 levels of AND/OR filters"
                )
            children = node.get("value")
            if not isinstance(children, list) or not children:
                raise _ApiError(400, "parameter_invalid", f"{operator} needs a list of filters")
            if len(children) > MAX_FILTERS_PER_GROUP:
                raise _ApiError(400, "parameter_invalid", f"An {operator} group can hold at most 15 filters")
            compiled = [self._compile_node(child, field_of, tz, depth + 1) for child in children]
            if operator == "AND":
                return lambda r: all(f(r) for f in compiled)
            return lambda r: any(f(r) for f in compiled)
        field = node.get("field")
        if not isinstance(field, str) or operator not in _SEARCH_OPERATORS:
            raise _ApiError(400, "parameter_invalid", "A filter needs a field, a valid operator and a value")
        value = node.get("value")
        kind = self._field_kind(field_of, field)  # raises for a field that is not searchable
        self._check_operator(kind, field, operator, value)
        return lambda record: self._matches(kind, field_of(record, field)[1], operator, value, tz)

    def _field_kind(self, field_of: Callable, field: str) -> str:
        probe = {  # the least a contact or conversation record has, enough to classify a field
            "tags": [],
            "custom_attributes": {},
            "email": "",
            "contact_ids": [],
            "teammate_ids": [],
            "source": {},
            "state": "open",
            "read": False,
        }
        return field_of(probe, field)[0]

    def _check_operator(self, kind: str, field: str, operator: str, value: Any) -> None:
        def refuse(message: str) -> None:
            raise _ApiError(400, "parameter_invalid", message)

        if kind == "date" and operator not in ("=", "<", ">"):
            refuse(f"The operator '{operator}' is not supported on the date field {field}; use =, < or >")
        if kind == "tag_list" and operator not in ("=", "!="):
            refuse("tag_id supports only the = and != operators")
        if operator in ("IN", "NIN") and not isinstance(value, list):
            refuse(f"The {operator} operator needs an array value")
        if operator not in ("IN", "NIN") and isinstance(value, list):
            refuse(f"The {operator} operator needs a single value")
        if operator in _STRING_OPERATORS and kind not in ("string", "words"):
            refuse(f"The operator '{operator}' only applies to string fields")
        if operator in _ORDER_OPERATORS and kind not in ("integer", "date", "cdate"):
            refuse(f"The operator '{operator}' only applies to integer and date fields")
        if kind in ("date", "cdate", "integer") and value is not None:
            for item in value if isinstance(value, list) else [value]:
                try:
                    int(item)
                except (TypeError, ValueError):
                    refuse(f"{field} needs an integer value, not {item!r}")

    @staticmethod
    def _day_bounds(timestamp: int, tz: ZoneInfo) -> tuple[int, int]:
        day = dt.datetime.fromtimestamp(timestamp, tz).date()
        start = dt.datetime.combine(day, dt.time.min, tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
        return int(start.timestamp()), int(end.timestamp())

    def _matches(self, kind: str, actual: Any, operator: str, value: Any, tz: ZoneInfo) -> bool:
        if kind == "date":  # contacts: matched by calendar day in the workspace's time zone
            if actual is None or value is None:
                return operator == "=" and actual is None and value is None
            start, end = self._day_bounds(int(value), tz)
            return {"=": start <= actual < end, ">": actual >= end, "<": actual < start}[operator]
        if kind in ("list", "tag_list"):
            wanted = [str(v) for v in (value if isinstance(value, list) else [value])]
            hit = any(str(a) in wanted for a in actual)
            return hit if operator in ("=", "IN") else not hit
        if kind == "words" and operator in ("=", "!="):  # source.body: = matches single words
            words = set(re.findall(r"\w+", _plain_text(actual).lower()))
            hit = str(value).lower() in words
            return hit if operator == "=" else not hit

        def same(a: Any, b: Any) -> bool:
            if b is None:
                return a in (None, "")
            if kind == "boolean":
                return bool(a) == (b if isinstance(b, bool) else str(b).lower() == "true")
            if kind in ("integer", "cdate"):
                return a is not None and float(a) == float(b)
            return a is not None and str(a) == str(b)

        if operator == "=":
            return same(actual, value)
        if operator == "!=":
            return not same(actual, value)
        if operator == "IN":
            return any(same(actual, v) for v in value)
        if operator == "NIN":
            return not any(same(actual, v) for v in value)
        if operator in _ORDER_OPERATORS:
            if actual is None:
                return False
            a, b = float(actual), float(value)
            if kind == "cdate":  # conversations: > and < are "greater (or equal)", "lower (or equal)"
                return a >= b if operator in (">", ">=") else a <= b
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]
        text, needle = ("" if actual is None else str(actual)).lower(), str(value).lower()
        return {
            "~": needle in text,
            "!~": needle not in text,
            "^": text.startswith(needle),
            "$": text.endswith(needle),
        }[operator]
