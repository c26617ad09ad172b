"""Intercom's error answers: the `error.list` body, and the exception a handler raises to send one.

The spec leaves many error cases out. Where it does, the fake answers as follows (an `error.list`
always, which the tests validate against the spec's `error` schema):
- unknown contact on retrieve/update/delete: 404 `not_found` "User Not Found", as the spec's
  contact sub-resources answer; unknown tag, note, conversation or route: 404 "Resource Not Found";
- duplicate contact: 409 `conflict` "A contact matching those details already exists with id=…",
  the wording of Intercom's versioned (2.x) reference pages;
- an attribute that was never created: 400 `parameter_not_found` "Custom attribute 'x' does not
  exist" (the wording is not confirmed by an Intercom source);
- other bad input (a body that is not JSON, a bad field, a bad search query, a page size over
  150): 400 `parameter_invalid`, the spec's code for bad parameters; a missing required
  parameter: 400 `parameter_not_found` "x is a required parameter", as the spec's examples word it;
- over the rate limit: 429 `rate_limit_exceeded` (the code of the spec's one documented 429),
  "Exceeded rate limit of 1666 in 10_seconds";
- injected failures: `server_error` (500), `bad_gateway` (502), `service_unavailable` (503).
"""

from __future__ import annotations

import uuid
from typing import Any


class _ApiError(ValueError):
    """An Intercom error answer; the Python helpers (add_contact, ...) raise it as a ValueError."""

    def __init__(self, status: int, code: str, message: str | None = None, field: str | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def error_body(code: str, message: str | None = None, field: str | None = None) -> dict:
    """An Intercom `error.list` (schema `error`): `type`, a UUID `request_id` and the errors."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"type": "error.list", "request_id": str(uuid.uuid4()), "errors": [error]}
