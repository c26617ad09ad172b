"""A faithful fake of the Intercom REST API (version 2.16), served over real HTTP on a loopback port.

It implements what the portal uses, with the response shapes, status codes and `error.list` objects
of the official OpenAPI description (copied to `integrations/tests/fixtures/intercom/api.intercom.io.yaml`); the
tests validate every response against that file, so the fake cannot drift into a dialect of its own.

    with FakeIntercom(search_delay_seconds=0) as fake:
        requests.get(f"{fake.url}/me", headers=fake.headers())

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

`FakeIntercom` combines one mixin per concern, each in its own module: `server` (the HTTP server,
start/stop, `url`, `headers`), `routing` (the route table, which it lists, and the dispatch of a
call: request log, dropped connections, rate limit, injected failures, bearer token), `state` (the
knobs, which it describes, the counters, `reset()` and the seeded workspace), `workspace` (`/me`,
admins, teams), `contacts`, `tags`, `notes`, `data_attributes`, `conversations`, `messages`, `search` (the
eventually consistent index and the query language) and `pagination`; `errors` holds the
`error.list` answers, including how the fake answers the error cases the spec leaves out, and
`bodies` the HTML of message bodies. The resource modules also hold the Python-side helpers tests
seed and inspect the workspace with (`add_contact`, `add_conversation`, `flush_search_index`, ...):
no HTTP, no rate limit, no log entry.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from integrations.intercom.fake.contacts import MAX_INLINE_ITEMS, Contacts
from integrations.intercom.fake.conversations import MAX_CONVERSATION_PARTS, Conversations
from integrations.intercom.fake.data_attributes import MAX_CUSTOM_ATTRIBUTES, DataAttributes
from integrations.intercom.fake.errors import _ApiError as _ApiError
from integrations.intercom.fake.errors import error_body
from integrations.intercom.fake.messages import Messages
from integrations.intercom.fake.notes import Notes
from integrations.intercom.fake.pagination import MAX_PER_PAGE, Pagination
from integrations.intercom.fake.routing import RequestRouting
from integrations.intercom.fake.search import MAX_FILTERS_PER_GROUP, MAX_NESTING, Search
from integrations.intercom.fake.server import API_VERSION, ServerLifecycle, _Server
from integrations.intercom.fake.state import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW_SECONDS,
    DEFAULT_SEARCH_DELAY_SECONDS,
    DEFAULT_TOKEN,
    KnobsAndState,
    RecordedRequest,
)
from integrations.intercom.fake.tags import Tags
from integrations.intercom.fake.workspace import APP_ID_CODE, ME_ADMIN_ID, SUPPORT_TEAM_ID, Workspace

__all__ = [
    "API_VERSION",
    "APP_ID_CODE",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_RATE_WINDOW_SECONDS",
    "DEFAULT_SEARCH_DELAY_SECONDS",
    "DEFAULT_TOKEN",
    "MAX_CONVERSATION_PARTS",
    "MAX_CUSTOM_ATTRIBUTES",
    "MAX_FILTERS_PER_GROUP",
    "MAX_INLINE_ITEMS",
    "MAX_NESTING",
    "MAX_PER_PAGE",
    "ME_ADMIN_ID",
    "SUPPORT_TEAM_ID",
    "FakeIntercom",
    "RecordedRequest",
    "error_body",
]


class FakeIntercom(
    ServerLifecycle,
    RequestRouting,
    KnobsAndState,
    Workspace,
    Contacts,
    Tags,
    Notes,
    DataAttributes,
    Conversations,
    Messages,
    Search,
    Pagination,
):
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
