"""What else appears on an account's timeline, besides check-ins and recorded changes.

Other apps plug a source in with `register_timeline_source(fn)`: `fn(account, limit)` returns
at most `limit` display entries, newest first, each a dict with at least "at" (a datetime) and
"kind" (which branch of templates/accounts/_timeline.html renders it), plus whatever that
branch reads. A source must read in a constant number of queries (one, ideally): the account
page's query count must not grow with the number of entries.
"""

from collections.abc import Callable

TimelineSource = Callable[..., list[dict]]

_sources: dict[str, TimelineSource] = {}


def register_timeline_source(fn: TimelineSource, *, key: str | None = None) -> None:
    """Add a source (registering the same key again replaces it, so a re-import is harmless)."""
    _sources[key or f"{fn.__module__}.{fn.__qualname__}"] = fn


def timeline_sources() -> list[TimelineSource]:
    return list(_sources.values())
