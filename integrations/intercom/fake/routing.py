"""Request dispatch: the route table, and what happens to a call before its route handler runs
(the request log, dropped connections, the rate limit, injected failures, the bearer token).

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
    POST /conversations                       POST /conversations/{id}/reply POST /conversations/{id}/parts
    POST /conversations/{id}/tags
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from integrations.intercom.fake.errors import _ApiError, error_body
from integrations.intercom.fake.state import RecordedRequest

_DROP = object()  # a handler result meaning: close the connection without answering

_MALFORMED = object()  # a request body that is not JSON


class RequestRouting:
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
            ("POST", "/conversations", self._create_conversation),
            ("POST", "/conversations/{conversation_id}/reply", self._reply_conversation),
            ("POST", "/conversations/{conversation_id}/parts", self._manage_conversation),
            ("POST", "/conversations/{conversation_id}/tags", self._tag_conversation),
            ("POST", "/messages", self._create_message),
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
