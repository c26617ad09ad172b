"""Intercom REST client (API version pinned by the `Intercom-Version` header).

`IntercomClient.request()` is the one way calls go out: bearer token, connect/read timeouts, the
shared rate budget, retries with exponential backoff and full jitter on connection errors and
5xx, waiting for `X-RateLimit-Reset` on a 429, and typed errors carrying Intercom's error list.
The methods below it cover what the portal uses; list and search reads follow `starting_after`
cursors to the end.
"""

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from integrations.intercom.errors import (
    IntercomConflict,
    IntercomError,
    IntercomNotConfigured,
    IntercomNotFound,
    IntercomRateLimited,
    IntercomRejected,
    IntercomUnavailable,
)
from integrations.ratelimit import SharedRateBudget

logger = logging.getLogger(__name__)

REGION_URLS = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}
MAX_PAGES = 10_000  # a cursor that never ends must not hold a worker forever


def base_url() -> str:
    return (settings.INTERCOM_BASE_URL or REGION_URLS[settings.INTERCOM_REGION]).rstrip("/")


class IntercomClient:
    """`with IntercomClient() as client: client.contact_get(id)`; one session, closed on exit."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        budget: SharedRateBudget | None = None,
        max_attempts: int = 5,
        max_rate_limit_waits: int = 20,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not settings.INTERCOM_ENABLED and token is None:
            raise IntercomNotConfigured("Intercom is not connected (INTERCOM_ENABLED is off).")
        self.url = (url or base_url()).rstrip("/")
        timeout = settings.INTERCOM_TIMEOUT_SECONDS
        self.timeout = (min(timeout, 5.0), timeout)  # connect, read
        self.budget = budget or SharedRateBudget(sleep=sleep)
        self.max_attempts = max_attempts
        self.max_rate_limit_waits = max_rate_limit_waits
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.calls = 0
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token if token is not None else settings.INTERCOM_ACCESS_TOKEN}",
                "Accept": "application/json",
                "Intercom-Version": settings.INTERCOM_VERSION,
                "User-Agent": "advanced-support-portal/1.0",
            }
        )

    def __enter__(self) -> "IntercomClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.close()

    # --- the one way out ---------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict | None = None, repeatable: bool = True
    ) -> dict:
        """One call, retried on failure. `repeatable=False` is for calls that must not happen twice
        (a note, a reply): then only a failure before the request reached Intercom is retried
        (no connection; a 429, which Intercom did not act on). After a read timeout or a 5xx
        Intercom may have stored it, so the error goes to the caller, whose retry checks first."""
        failures = rate_limit_waits = 0
        last_error: IntercomError | None = None
        while failures < self.max_attempts:
            self.budget.acquire()
            self.calls += 1
            try:
                response = self.session.request(
                    method, f"{self.url}{path}", json=json, params=params, timeout=self.timeout
                )
            except requests.ConnectTimeout:
                last_error = IntercomUnavailable(
                    f"Intercom could not be reached within {self.timeout[0]:g} s."
                )
            except requests.Timeout:
                last_error = IntercomUnavailable(f"Intercom did not answer within {self.timeout[1]:g} s.")
                if not repeatable:
                    raise last_error from None
            except requests.RequestException as exc:
                last_error = IntercomUnavailable(f"Intercom could not be reached ({type(exc).__name__}).")
                if not repeatable and not _before_sending(exc):
                    raise last_error from None
            else:
                self.budget.observe(response.headers)
                if response.status_code == 429:
                    rate_limit_waits += 1
                    reset_at = _float(response.headers.get("X-RateLimit-Reset"))
                    wait = self.budget.exhausted(reset_at)
                    if rate_limit_waits > self.max_rate_limit_waits:
                        raise IntercomRateLimited(
                            "Intercom kept answering 429 (rate limit).", status=429, reset_at=reset_at
                        )
                    self.sleep(min(wait, 120.0) + random.uniform(0, 0.25))  # noqa: S311
                    continue  # a 429 is waited out, not counted as a failure
                if response.status_code < 500:
                    return self._result(response, method, path)
                last_error = _error(
                    response, IntercomUnavailable, f"Intercom answered HTTP {response.status_code}"
                )
                if not repeatable:
                    raise last_error
            failures += 1
            if failures < self.max_attempts:
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
                self.sleep(random.uniform(0, delay))  # noqa: S311 - full jitter
        raise last_error or IntercomUnavailable("Intercom could not be reached.")

    def _result(self, response: requests.Response, method: str, path: str) -> dict:
        status = response.status_code
        if status < 400:
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise IntercomRejected(f"Intercom sent a reply that is not JSON ({method} {path}).") from None
        what = f"{method} {path}"
        if status == 404:
            raise _error(response, IntercomNotFound, f"Intercom has no such object ({what})")
        if status == 409:
            raise _error(response, IntercomConflict, f"Intercom reports a conflict ({what})")
        raise _error(response, IntercomRejected, f"Intercom refused {what} (HTTP {status})")

    def paginate(
        self, method: str, path: str, *, items: str, body: dict | None = None, params=None
    ) -> Iterator[dict]:
        """Every item of a cursor-paged list or search, following `pages.next.starting_after`."""
        body = dict(body or {})
        params = dict(params or {})
        for _ in range(MAX_PAGES):
            page = self.request(method, path, json=body or None, params=params or None)
            yield from page.get(items) or []
            cursor = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
            if not cursor:
                return
            if method == "GET":
                params["starting_after"] = cursor
            else:
                body["pagination"] = {**(body.get("pagination") or {}), "starting_after": cursor}
        logger.warning("Stopped following %s %s after %s pages.", method, path, MAX_PAGES)

    # --- what the portal uses ----------------------------------------------------------------

    def me(self) -> dict:
        return self.request("GET", "/me")

    def admins(self) -> list[dict]:
        return self.request("GET", "/admins").get("admins") or []

    def teams(self) -> list[dict]:
        return self.request("GET", "/teams").get("teams") or []

    def contact_get(self, contact_id: str) -> dict:
        return self.request("GET", f"/contacts/{contact_id}")

    def contact_find_by_external_id(self, external_id: str) -> dict | None:
        try:
            found = self.request(
                "GET", f"/contacts/find_by_external_id/{requests.utils.quote(external_id, safe='')}"
            )
        except IntercomNotFound:
            return None
        return found or None

    def contact_create(self, fields: dict) -> dict:
        return self.request("POST", "/contacts", json={"role": "user", **fields})

    def contact_update(self, contact_id: str, fields: dict) -> dict:
        return self.request("PUT", f"/contacts/{contact_id}", json=fields)

    def contacts_search(self, query: dict, *, per_page: int = 150) -> Iterator[dict]:
        return self.paginate(
            "POST",
            "/contacts/search",
            items="data",
            body={"query": query, "pagination": {"per_page": per_page}},
        )

    def data_attributes(self, model: str = "contact") -> list[dict]:
        return self.request("GET", "/data_attributes", params={"model": model}).get("data") or []

    def data_attribute_create(
        self, *, name: str, data_type: str, description: str = "", model: str = "contact"
    ) -> dict:
        body = {"name": name, "model": model, "data_type": data_type, "description": description}
        return self.request("POST", "/data_attributes", json=body)

    def tags(self) -> list[dict]:
        return self.request("GET", "/tags").get("data") or []

    def tag_create(self, name: str) -> dict:
        return self.request("POST", "/tags", json={"name": name})

    def contact_tag(self, contact_id: str, tag_id: str) -> dict:
        return self.request("POST", f"/contacts/{contact_id}/tags", json={"id": str(tag_id)})

    def contact_untag(self, contact_id: str, tag_id: str) -> dict:
        return self.request("DELETE", f"/contacts/{contact_id}/tags/{tag_id}")

    def contact_note(self, contact_id: str, *, body: str, admin_id: str | None = None) -> dict:
        payload = {"body": body, **({"admin_id": str(admin_id)} if admin_id else {})}
        return self.request("POST", f"/contacts/{contact_id}/notes", json=payload, repeatable=False)

    def conversation_get(self, conversation_id: str) -> dict:
        return self.request("GET", f"/conversations/{conversation_id}")

    def conversations_search(self, query: dict, *, per_page: int = 150) -> Iterator[dict]:
        return self.paginate(
            "POST",
            "/conversations/search",
            items="conversations",
            body={"query": query, "pagination": {"per_page": per_page}},
        )

    def conversation_reply(self, conversation_id: str, *, body: str, admin_id: str) -> dict:
        """A reply the user sees (message type `comment`), written as the given teammate."""
        payload = {"message_type": "comment", "type": "admin", "admin_id": str(admin_id), "body": body}
        return self.request("POST", f"/conversations/{conversation_id}/reply", json=payload, repeatable=False)

    def message_create(self, contact_id: str, *, body: str, admin_id: str, subject: str = "") -> dict:
        """A message a teammate starts with one contact (in-app), opened as a conversation in the
        inbox at once so that the team sees it and the contact's reply lands there."""
        payload = {
            "message_type": "in_app",
            "from": {"type": "admin", "id": str(admin_id)},
            "to": {"type": "user", "id": contact_id},
            "body": body,
            "create_conversation_without_contact_reply": True,
            **({"subject": subject} if subject else {}),
        }
        return self.request("POST", "/messages", json=payload, repeatable=False)

    def conversation_assign(
        self, conversation_id: str, *, kind: str, assignee_id: str, admin_id: str
    ) -> dict:
        """Assign the conversation to an admin or a team (`kind`), as `admin_id`; "0" unassigns.
        Repeating it changes nothing, so it is retried like a read."""
        payload = {
            "message_type": "assignment",
            "type": kind,
            "admin_id": str(admin_id),
            "assignee_id": str(assignee_id),
        }
        return self.request("POST", f"/conversations/{conversation_id}/parts", json=payload)

    def conversation_tag(self, conversation_id: str, *, tag_id: str, admin_id: str) -> dict:
        """Tag the conversation (`POST /conversations/{id}/tags`); tagging it again changes nothing."""
        payload = {"id": str(tag_id), "admin_id": str(admin_id)}
        return self.request("POST", f"/conversations/{conversation_id}/tags", json=payload)

    def conversation_note(self, conversation_id: str, *, body: str, admin_id: str) -> dict:
        payload = {"message_type": "note", "type": "admin", "admin_id": str(admin_id), "body": body}
        return self.request("POST", f"/conversations/{conversation_id}/reply", json=payload, repeatable=False)


def _before_sending(exc: requests.RequestException) -> bool:
    """Whether a connection error happened before the request could reach Intercom (no
    connection was made), rather than while it was sent or answered."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _error(response: requests.Response, cls: type[IntercomError], message: str) -> IntercomError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    errors = body.get("errors") if isinstance(body, dict) else None
    detail = "; ".join(
        f"{e.get('code')}: {e.get('message')}"
        for e in (errors or [])
        if isinstance(e, dict) and e.get("code")
    )
    return cls(
        f"{message}{': ' + detail if detail else ''}.",
        status=response.status_code,
        errors=errors,
        request_id=body.get("request_id") if isinstance(body, dict) else None,
    )
