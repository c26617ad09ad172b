"""A faithful fake of the Intercom REST API (version 2.16), served over real HTTP on a loopback port.

It implements what the portal uses, with the response shapes, status codes and `error.list` objects
of the official OpenAPI description (copied to `integrations/tests/fixtures/intercom/api.intercom.io.yaml`); the
tests validate every response against that file, so the fake cannot drift into a dialect of its own.

    with FakeIntercom(search_delay_seconds=0) as fake:
        requests.get(f"{fake.url}/me", headers=fake.headers())

Routes (all need `Authorization: Bearer <token>`):

    GET  /me                                  GET  /admins, /admins/{id}     GET /teams, /teams/{id}
    GET  /contacts                            POST /contacts                 POST /contacts/search
    GET  /contacts/{id}                       PUT  /contacts/{id}            DELETE /contacts/{id}
    GET  /contacts/find_by_external_id/{external_id}
    GET  /contacts/{id}/tags                  POST /contacts/{id}/tags       DELETE /contacts/{id}/tags/{tag_id}
    GET  /contacts/{id}/notes                 POST /contacts/{id}/notes      GET /notes/{id}
    GET  /data_attributes                     POST /data_attributes
    GET  /tags                                POST /tags                     GET /tags/{id}
    GET  /conversations                       POST /conversations/search     GET /conversations/{id}
    POST /conversations/{id}/reply

Behaviour of the real service that the fake keeps, because client code must cope with it:
- search is eventually consistent: a created or changed contact (or conversation) shows up in
  `POST /contacts/search` only `search_delay_seconds` later, and until then search returns the old
  version; retrieve, `find_by_external_id` and the list endpoint are immediate;
- contact search matches date fields by calendar day in the workspace time zone (`=`, `>` from the
  start of the next day, `<` before the start of the day; other operators are refused);
- `custom_attributes` only accepts attributes created first through `POST /data_attributes`;
- a duplicate `external_id` (or the e-mail of an existing user) is a 409 `conflict`;
- every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
  (epoch seconds of the end of the current fixed window); over the limit a call gets a 429.

Knobs for tests and benchmarks (constructor arguments, attributes, or `configure(...)`):
`rate_limit` (default 1,666 calls, Intercom's app limit of 10,000 a minute per 10-second window;
None switches it off), `rate_window_seconds` (10), `search_delay_seconds` (2.0), `latency_seconds`,
`fail_rate` with `fail_status`, `down`, plus `fail_next(n, status)` and `drop_next(n)`. `reset()`
clears the state and puts every knob back to its constructor value.

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
A contact without an e-mail address has `email: ""`, since the schema types it as a non-null string.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import html
import itertools
import json
import random
import re
import socket
import socketserver
import sys
import threading
import time
import unicodedata
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

API_VERSION = "2.16"
DEFAULT_TOKEN = "fake-token"
# Intercom's private-app limit, 10,000 calls a minute, is enforced in 10-second windows: 1,666 each.
DEFAULT_RATE_LIMIT = 1666
DEFAULT_RATE_WINDOW_SECONDS = 10.0
# The real index takes "a few minutes"; 2 s keeps the lag visible without slowing demos down.
DEFAULT_SEARCH_DELAY_SECONDS = 2.0

ME_ADMIN_ID = "991267001"
SUPPORT_TEAM_ID = "5017691"
APP_ID_CODE = "fakeintercomworkspace01"

MAX_INLINE_ITEMS = 10  # a contact inlines at most 10 tags / notes / companies
MAX_CONVERSATION_PARTS = 500  # retrieving a conversation returns the 500 most recent parts
MAX_PER_PAGE = 150
MAX_FILTERS_PER_GROUP = 15
MAX_NESTING = 2
MAX_CUSTOM_ATTRIBUTES = 250

_SEARCH_OPERATORS = {"=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"}
_STRING_OPERATORS = {"~", "!~", "^", "$"}
_ORDER_OPERATORS = {"<", "<=", ">", ">="}


class RecordedRequest(NamedTuple):
    """One call the fake received: the method, the path (no query string) and the decoded JSON
    body (None for no body, the raw text when it was not JSON)."""

    method: str
    path: str
    body: Any


class _ApiError(ValueError):
    """An Intercom error answer; the Python helpers (add_contact, ...) raise it as a ValueError."""

    def __init__(self, status: int, code: str, message: str | None = None, field: str | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


_DROP = object()  # a handler result meaning: close the connection without answering
_MALFORMED = object()  # a request body that is not JSON

_KNOB_NAMES = (
    "token",
    "rate_limit",
    "rate_window_seconds",
    "search_delay_seconds",
    "latency_seconds",
    "fail_rate",
    "fail_status",
    "down",
    "workspace_timezone",
)


def error_body(code: str, message: str | None = None, field: str | None = None) -> dict:
    """An Intercom `error.list` (schema `error`): `type`, a UUID `request_id` and the errors."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"type": "error.list", "request_id": str(uuid.uuid4()), "errors": [error]}


def _html_body(text: str) -> str:
    """Intercom returns note and part bodies as HTML: plain text comes back wrapped in <p>."""
    stripped = text.strip()
    if stripped.startswith("<"):
        return stripped
    return "".join(f"<p>{html.escape(line)}</p>" for line in stripped.splitlines() or [""])


def _plain_text(body: str | None) -> str:
    if body is None:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", " ", body)).strip()


def _valid_attribute_name(name: str) -> bool:
    """Alphanumerics, currency symbols and hyphens (the documented rule), plus the spaces and
    underscores the spec's own examples use ("Mithril Shirt", "paid_subscriber")."""
    return bool(name.strip()) and all(
        ch.isalnum() or ch in " _-" or unicodedata.category(ch) == "Sc" for ch in name
    )


class FakeIntercom:
    """The fake Intercom workspace and its HTTP server. Thread-safe: all state sits behind one lock.

    Seeded with the token's admin (`ME_ADMIN_ID`, returned by `/me`), two more admins and one team
    (`SUPPORT_TEAM_ID`). Contacts get 24-hex ids, admins, tags, notes and conversations numeric
    string ids; timestamps are epoch seconds from `clock` (time.time unless a test passes its own).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str = DEFAULT_TOKEN,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        rate_window_seconds: float = DEFAULT_RATE_WINDOW_SECONDS,
        search_delay_seconds: float = DEFAULT_SEARCH_DELAY_SECONDS,
        latency_seconds: float = 0.0,
        fail_rate: float = 0.0,
        fail_status: int = 500,
        workspace_timezone: str = "UTC",
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ):
        self.host = host
        self.port = port
        self.clock = clock
        self._defaults = {
            "token": token,
            "rate_limit": rate_limit,
            "rate_window_seconds": rate_window_seconds,
            "search_delay_seconds": search_delay_seconds,
            "latency_seconds": latency_seconds,
            "fail_rate": fail_rate,
            "fail_status": fail_status,
            "down": False,
            "workspace_timezone": workspace_timezone,
        }
        self._seed = seed
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()
        self._ids = itertools.count(1)  # never restarts: an id from before a reset stays unknown
        self.reset()

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeIntercom is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _bind(self) -> _Server:
        if self._server is not None:
            raise RuntimeError("FakeIntercom is already running")
        self._server = _Server((self.host, self.port), _Handler, self)
        return self._server

    def start(self) -> FakeIntercom:
        """Bind the port and serve from a daemon thread. Returns self."""
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-intercom", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Bind and serve in the calling thread until KeyboardInterrupt (or stop() from elsewhere);
        `ready` is called once the port is bound (when `url` is known)."""
        server = self._bind()
        try:
            if ready is not None:
                ready()
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            server.close_connections()
            self._server = None

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeIntercom:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def headers(self, token: str | None = None) -> dict[str, str]:
        """The headers a well-behaved client sends (for tests and demos)."""
        return {
            "Authorization": f"Bearer {self.token if token is None else token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Intercom-Version": API_VERSION,
        }

    # ----------------------------------------------------------------------------------------
    # Knobs and state
    # ----------------------------------------------------------------------------------------

    def configure(self, **knobs: Any) -> None:
        """Set knobs by name: token, rate_limit, rate_window_seconds, search_delay_seconds,
        latency_seconds, fail_rate, fail_status, down, workspace_timezone."""
        unknown = set(knobs) - set(_KNOB_NAMES)
        if unknown:
            raise TypeError(f"unknown FakeIntercom knobs: {sorted(unknown)}")
        with self._lock:
            for name, value in knobs.items():
                setattr(self, name, value)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` calls get `status` (an `error.list`) instead of being processed."""
        with self._lock:
            self._fail_queue.extend([status] * n)

    def drop_next(self, n: int = 1) -> None:
        """The next `n` calls are read, then the connection is closed without any response."""
        with self._lock:
            self._drops_pending += n

    def reset(self) -> None:
        """Forget every contact, tag, note, attribute and conversation, the logs and counters, and
        put every knob back to its constructor value. The seeded admins and team come back."""
        with self._lock:
            for name, value in self._defaults.items():
                setattr(self, name, value)
            self._rng = random.Random(self._seed)  # noqa: S311 - failure injection, not security
            self._fail_queue: deque[int] = deque()
            self._drops_pending = 0
            self._window_start: float | None = None
            self._window_count = 0
            self.requests_log: list[RecordedRequest] = []
            self.calls_by_route: Counter[str] = Counter()
            self.intercom_versions: Counter[str | None] = Counter()
            self.rate_limited_calls = 0
            self.internal_errors: list[Exception] = []
            self._contacts: dict[str, dict] = {}
            self._by_external_id: dict[str, str] = {}
            self._users_by_email: dict[str, str] = {}
            self._tags: dict[str, dict] = {}
            self._notes: dict[str, dict] = {}
            self._conversations: dict[str, dict] = {}
            self._data_attributes: list[dict] = []
            self._contact_index: dict[str, list[tuple[float, dict | None]]] = {}
            self._conversation_index: dict[str, list[tuple[float, dict | None]]] = {}
            self._seed_workspace()

    @property
    def call_count(self) -> int:
        return len(self.requests_log)

    def _now(self) -> int:
        return int(self.clock())

    def _next(self) -> int:
        return next(self._ids)

    def _seed_workspace(self) -> None:
        created = self._now()
        self.app = {
            "type": "app",
            "id_code": APP_ID_CODE,
            "name": "Fake Intercom Workspace",
            "created_at": created,
            "secure": False,
            "identity_verification": False,
            "timezone": self.workspace_timezone,
            "region": "US",
        }
        self._admins = {
            ME_ADMIN_ID: self._admin_record(ME_ADMIN_ID, "Portal Bot", "portal-bot@example.com", []),
            "991267002": self._admin_record(
                "991267002", "Ada Lovelace", "ada@example.com", [SUPPORT_TEAM_ID]
            ),
            "991267003": self._admin_record(
                "991267003", "Grace Hopper", "grace@example.com", [SUPPORT_TEAM_ID]
            ),
        }
        self._teams = {
            SUPPORT_TEAM_ID: {
                "type": "team",
                "id": SUPPORT_TEAM_ID,
                "name": "Support",
                "admin_ids": [991267002, 991267003],
                "admin_priority_level": {
                    "primary_admin_ids": [991267002],
                    "secondary_admin_ids": [991267003],
                },
                "assignment_limit": 10,
                "distribution_method": "round_robin",
            }
        }
        builtin = [
            ("contact", "id", "ID", "string", False),
            ("contact", "external_id", "User ID", "string", True),
            ("contact", "email", "Email", "string", True),
            ("contact", "name", "Name", "string", True),
            ("contact", "phone", "Phone", "string", True),
            ("contact", "role", "Role", "string", False),
            ("contact", "created_at", "Created at", "date", False),
            ("contact", "signed_up_at", "Signed up", "date", True),
            ("contact", "last_seen_at", "Last seen", "date", True),
            ("contact", "updated_at", "Updated at", "date", False),
            ("contact", "unsubscribed_from_emails", "Unsubscribed from emails", "boolean", True),
            ("company", "name", "Company name", "string", True),
            ("company", "company_id", "Company ID", "string", False),
            ("company", "monthly_spend", "Monthly Spend", "float", True),
            ("company", "size", "Company size", "integer", True),
            ("company", "website", "Company website", "string", True),
            ("company", "industry", "Company industry", "string", True),
        ]
        for model, name, label, data_type, api_writable in builtin:
            self._data_attributes.append(
                {
                    "type": "data_attribute",
                    "name": name,
                    "full_name": name,
                    "label": label,
                    "description": label,
                    "data_type": data_type,
                    "api_writable": api_writable,
                    "ui_writable": False,
                    "messenger_writable": True,
                    "custom": False,
                    "archived": False,
                    "model": model,
                }
            )

    def _admin_record(self, admin_id: str, name: str, email: str, team_ids: list[str]) -> dict:
        return {
            "type": "admin",
            "id": admin_id,
            "name": name,
            "email": email,
            "job_title": "Support",
            "away_mode_enabled": False,
            "away_mode_reassign": False,
            "away_status_reason_id": None,
            "has_inbox_seat": True,
            "team_ids": [int(t) for t in team_ids],
        }

    # ----------------------------------------------------------------------------------------
    # Python-side helpers for tests (no HTTP, no rate limit, no log entry)
    # ----------------------------------------------------------------------------------------

    @property
    def admin_ids(self) -> list[str]:
        return list(self._admins)

    def add_data_attribute(self, name: str, data_type: str = "string", model: str = "contact") -> dict:
        """Create a custom data attribute as `POST /data_attributes` would; returns its JSON."""
        with self._lock:
            return self._create_data_attribute({"name": name, "data_type": data_type, "model": model})

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

    def flush_search_index(self) -> None:
        """Make every pending change searchable now (the index catches up)."""
        with self._lock:
            for index in (self._contact_index, self._conversation_index):
                for key, entries in index.items():
                    index[key] = [(float("-inf"), entries[-1][1])] if entries else []

    # ----------------------------------------------------------------------------------------
    # HTTP-independent request handling
    # ----------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, raw_body: bytes) -> Any:
        """Process one request; returns (status, payload, headers) or _DROP. Used by the HTTP
        handler, public so that a test could drive the fake without sockets."""
        with self._lock:
            parts = urlsplit(target)
            path = parts.path.rstrip("/") or "/"
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            body: Any = None
            if raw_body:
                try:
                    body = json.loads(raw_body)
                except ValueError:
                    body = _MALFORMED
            route_name, handler, params = self._match_route(method, path)
            logged_body = raw_body.decode("utf-8", "replace") if body is _MALFORMED else body
            self.requests_log.append(RecordedRequest(method, path, logged_body))
            self.calls_by_route[route_name] += 1
            self.intercom_versions[headers.get("Intercom-Version")] += 1

            if self._drops_pending > 0:
                self._drops_pending -= 1
                return _DROP
            limited, rate_headers = self._tick_rate_limit()
            if limited:
                self.rate_limited_calls += 1
                message = f"Exceeded rate limit of {self.rate_limit} in {self.rate_window_seconds:g}_seconds"
                return 429, error_body("rate_limit_exceeded", message), rate_headers
            if self._fail_queue:
                return self._injected_failure(self._fail_queue.popleft(), rate_headers)
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return self._injected_failure(self.fail_status, rate_headers)
            if headers.get("Authorization", "") != f"Bearer {self.token}":
                return 401, error_body("unauthorized", "Access Token Invalid"), rate_headers
            try:
                if handler is None:
                    raise _ApiError(404, "not_found", "Resource Not Found")
                if body is _MALFORMED:
                    # Undocumented in the spec; parameter_invalid is its code for malformed input.
                    raise _ApiError(400, "parameter_invalid", "Request body is not valid JSON")
                if body is not None and not isinstance(body, dict):
                    raise _ApiError(400, "parameter_invalid", "Request body must be a JSON object")
                status, payload = handler(params, query, body or {})
            except _ApiError as exc:
                return exc.status, error_body(exc.code, exc.message, exc.field), rate_headers
            except Exception as exc:  # a bug in the fake: answer 500 and keep it for the tests to see
                self.internal_errors.append(exc)
                return 500, error_body("server_error", f"Fake Intercom bug: {exc!r}"), rate_headers
            return status, payload, rate_headers

    def _injected_failure(self, status: int, rate_headers: list) -> tuple:
        codes = {500: "server_error", 502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}
        return status, error_body(codes.get(status, "server_error"), "Injected failure"), rate_headers

    def _tick_rate_limit(self) -> tuple[bool, list[tuple[str, str]]]:
        """Fixed windows aligned on multiples of the window length, like Intercom's 10-second ones."""
        if self.rate_limit is None:
            return False, []
        now = self.clock()
        window = float(self.rate_window_seconds)
        start = (now // window) * window
        if start != self._window_start:
            self._window_start = start
            self._window_count = 0
        self._window_count += 1
        reset = int(-(-(start + window) // 1))  # ceil: the epoch second the window ends
        remaining = max(0, self.rate_limit - self._window_count)
        headers = [
            ("X-RateLimit-Limit", str(self.rate_limit)),
            ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", str(reset)),
        ]
        return self._window_count > self.rate_limit, headers

    # ----------------------------------------------------------------------------------------
    # Routing
    # ----------------------------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[str, re.Pattern, str, Callable]]:
        table = [
            ("GET", "/me", self._get_me),
            ("GET", "/admins", self._list_admins),
            ("GET", "/admins/{admin_id}", self._get_admin),
            ("GET", "/teams", self._list_teams),
            ("GET", "/teams/{team_id}", self._get_team),
            ("GET", "/contacts", self._list_contacts),
            ("POST", "/contacts", self._post_contact),
            ("POST", "/contacts/search", self._search_contacts),
            ("GET", "/contacts/find_by_external_id/{external_id}", self._find_by_external_id),
            ("GET", "/contacts/{contact_id}", self._get_contact),
            ("PUT", "/contacts/{contact_id}", self._put_contact),
            ("DELETE", "/contacts/{contact_id}", self._delete_contact),
            ("GET", "/contacts/{contact_id}/tags", self._list_contact_tags),
            ("POST", "/contacts/{contact_id}/tags", self._tag_contact),
            ("DELETE", "/contacts/{contact_id}/tags/{tag_id}", self._untag_contact),
            ("GET", "/contacts/{contact_id}/notes", self._list_notes),
            ("POST", "/contacts/{contact_id}/notes", self._create_note),
            ("GET", "/notes/{note_id}", self._get_note),
            ("GET", "/data_attributes", self._list_data_attributes),
            ("POST", "/data_attributes", self._post_data_attribute),
            ("GET", "/tags", self._list_tags),
            ("POST", "/tags", self._post_tag),
            ("GET", "/tags/{tag_id}", self._get_tag),
            ("GET", "/conversations", self._list_conversations),
            ("POST", "/conversations/search", self._search_conversations),
            ("GET", "/conversations/{conversation_id}", self._get_conversation),
            ("POST", "/conversations/{conversation_id}/reply", self._reply_conversation),
        ]
        routes = []
        for method, template, handler in table:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append((method, re.compile(f"^{pattern}$"), template, handler))
        return routes

    def _match_route(self, method: str, path: str) -> tuple[str, Callable | None, dict]:
        for route_method, pattern, template, handler in self._routes:
            match = pattern.match(path)
            if match and route_method == method:
                return f"{method} {template}", handler, {k: unquote(v) for k, v in match.groupdict().items()}
        return f"{method} (unknown)", None, {}

    # ----------------------------------------------------------------------------------------
    # Admins and teams
    # ----------------------------------------------------------------------------------------

    def _get_me(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        admin = self._admins[ME_ADMIN_ID]
        me = {
            "type": "admin",
            "id": admin["id"],
            "email": admin["email"],
            "name": admin["name"],
            "email_verified": True,
            "app": {**self.app, "timezone": self.workspace_timezone},
            "avatar": {"type": "avatar", "image_url": None},
            "has_inbox_seat": True,
        }
        return 200, me

    def _list_admins(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, {"type": "admin.list", "admins": [dict(a) for a in self._admins.values()]}

    def _get_admin(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        admin = self._admins.get(params["admin_id"])
        if admin is None:
            raise _ApiError(404, "admin_not_found", "Admin not found")
        return 200, dict(admin)

    def _list_teams(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, {"type": "team.list", "teams": [copy.deepcopy(t) for t in self._teams.values()]}

    def _get_team(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        team = self._teams.get(params["team_id"])
        if team is None:
            raise _ApiError(404, "team_not_found", "Team not found")
        return 200, copy.deepcopy(team)

    def _admin_or_404(
        self, admin_id: Any, code: str = "not_found", message: str = "Resource Not Found"
    ) -> dict:
        admin = self._admins.get(str(admin_id)) if admin_id is not None else None
        if admin is None:
            raise _ApiError(404, code, message)
        return admin

    # ----------------------------------------------------------------------------------------
    # Contacts
    # ----------------------------------------------------------------------------------------

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

    # ----------------------------------------------------------------------------------------
    # Tags
    # ----------------------------------------------------------------------------------------

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

    def _untag_contact(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        record = self._contact_or_404(params["contact_id"])
        tag = self._tag_or_404(params["tag_id"])
        applied = next((t for t in record["tags"] if t["id"] == tag["id"]), None)
        if applied is not None:
            record["tags"].remove(applied)
            self._index_later(self._contact_index, record["id"], record)
        # Untagging a contact that does not carry the tag answers 200 with the tag, unapplied.
        return 200, self._applied_tag(tag, applied)

    # ----------------------------------------------------------------------------------------
    # Notes
    # ----------------------------------------------------------------------------------------

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

    # ----------------------------------------------------------------------------------------
    # Data attributes
    # ----------------------------------------------------------------------------------------

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

    # ----------------------------------------------------------------------------------------
    # Conversations
    # ----------------------------------------------------------------------------------------

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

    # ----------------------------------------------------------------------------------------
    # The search index (eventually consistent, like the real one)
    # ----------------------------------------------------------------------------------------

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

    # ----------------------------------------------------------------------------------------
    # Search queries
    # ----------------------------------------------------------------------------------------

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

    # ----------------------------------------------------------------------------------------
    # Pagination
    # ----------------------------------------------------------------------------------------

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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeIntercom):
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on kept-alive clients too: a stopped server must not go on answering them."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (a timeout shorter than the latency knob): not our problem
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stalls
    server: _Server

    def handle_one_request(self) -> None:
        if self.server.fake.down:
            self.close_connection = True  # the service is down: hang up before reading anything
            return
        super().handle_one_request()

    def _dispatch(self) -> None:
        fake = self.server.fake
        if fake.down:  # went down while this kept-alive connection waited for its next request
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        result = fake.handle(self.command, self.path, self.headers, raw)
        if result is _DROP:
            self.close_connection = True  # read the request, then hang up without a response
            return
        status, payload, extra_headers = result
        if fake.latency_seconds:
            time.sleep(float(fake.latency_seconds))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        return
