"""Pagination: page sizes, opaque `starting_after` cursors, and the optional objects of a request
body (`pagination`, `sort`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from integrations.intercom.fake.errors import _ApiError

MAX_PER_PAGE = 150


class Pagination:
    @staticmethod
    def _object(body: dict, key: str) -> dict:
        value = body.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _ApiError(400, "parameter_invalid", f"{key} must be an object")
        return value

    def _per_page(self, raw: Any, *, default: int) -> int:
        if raw is None or raw == "":
            return default
        try:
            per_page = int(raw)
        except (TypeError, ValueError):
            raise _ApiError(400, "parameter_invalid", "per_page must be an integer") from None
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise _ApiError(400, "parameter_invalid", f"per_page must be between 1 and {MAX_PER_PAGE}")
        return per_page

    def _paginate(
        self, records: list[dict], per_page: int, starting_after: Any
    ) -> tuple[list[dict], dict, int]:
        """Cursor pages: `starting_after` is the opaque `pages.next.starting_after` of the previous
        page (it remembers the last id, so records added meanwhile do not shift the next page)."""
        total = len(records)
        offset, page_number = 0, 1
        if starting_after:
            try:
                last_id, last_offset, page_number = json.loads(base64.urlsafe_b64decode(str(starting_after)))
            except (ValueError, TypeError):
                raise _ApiError(400, "parameter_invalid", "starting_after is not a valid cursor") from None
            ids = [r["id"] for r in records]
            offset = ids.index(last_id) + 1 if last_id in ids else int(last_offset)
        page = records[offset : offset + per_page]
        pages: dict[str, Any] = {
            "type": "pages",
            "page": page_number,
            "per_page": per_page,
            "total_pages": -(-total // per_page),
        }
        if offset + per_page < total and page:
            cursor = json.dumps([page[-1]["id"], offset + per_page, page_number + 1]).encode()
            pages["next"] = {
                "per_page": per_page,
                "starting_after": base64.urlsafe_b64encode(cursor).decode(),
            }
        return page, pages, total
