"""Knobs, counters and the seeded workspace: the state that `reset()` puts back.

Knobs for tests and benchmarks (constructor arguments, attributes, or `configure(...)`):
`rate_limit` (default 1,666 calls, Intercom's app limit of 10,000 a minute per 10-second window;
None switches it off), `rate_window_seconds` (10), `search_delay_seconds` (2.0), `latency_seconds`,
`fail_rate` with `fail_status`, `down`, plus `fail_next(n, status)` and `drop_next(n)`. `reset()`
clears the state and puts every knob back to its constructor value.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from typing import Any, NamedTuple

from integrations.intercom.fake.workspace import APP_ID_CODE, ME_ADMIN_ID, SUPPORT_TEAM_ID

DEFAULT_TOKEN = "fake-token"
# Intercom's private-app limit, 10,000 calls a minute, is enforced in 10-second windows: 1,666 each.
DEFAULT_RATE_LIMIT = 1666
DEFAULT_RATE_WINDOW_SECONDS = 10.0
# The real index takes "a few minutes"; 2 s keeps the lag visible without slowing demos down.
DEFAULT_SEARCH_DELAY_SECONDS = 2.0


class RecordedRequest(NamedTuple):
    """One call the fake received: the method, the path (no query string) and the decoded JSON
    body (None for no body, the raw text when it was not JSON)."""

    method: str
    path: str
    body: Any


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


class KnobsAndState:
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
