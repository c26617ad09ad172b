"""Where template previews and drafts get their data. Apps register a source ("account",
"case") that turns a reference into plain dictionaries; this app never imports theirs."""

from collections.abc import Callable
from dataclasses import dataclass

from portal.models import User


@dataclass(frozen=True)
class ContextSource:
    key: str  # the name of the preview form's field, e.g. "account"
    label: str
    # (user, reference) -> the context parts it provides, or None when nothing matches or the
    # user may not see it.
    lookup: Callable[[User, str], dict | None]


_sources: dict[str, ContextSource] = {}


def register_context_source(source: ContextSource) -> None:
    _sources[source.key] = source


def context_sources() -> list[ContextSource]:
    return list(_sources.values())


def specialist_context(user: User) -> dict:
    full_name = user.get_full_name() or user.username
    return {
        "specialist": {"name": full_name, "first_name": user.first_name or full_name, "email": user.email}
    }


def context_for(*, user: User, key: str, reference: str) -> dict | None:
    source = _sources.get(key)
    if source is None or not (reference or "").strip():
        return None
    parts = source.lookup(user, reference.strip())
    return None if parts is None else {**specialist_context(user), **parts}
