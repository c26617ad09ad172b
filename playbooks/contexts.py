"""Where template previews and drafts get their data. Apps register a source ("account",
"case", "feedback") that turns a reference into plain dictionaries; this app never imports theirs.

A real reply is rendered from real data only (a missing part is an error, see
playbooks.rendering). A *preview* is different: it shows a template against the records a person
chose and fills whatever those records cannot supply from the sample data, saying which parts
are samples."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from playbooks.rendering.schema import LIST_PLACEHOLDERS, example_context
from playbooks.rendering.validation import placeholder_roots
from portal.models import User


@dataclass(frozen=True)
class ContextSource:
    key: str  # the name of the preview form's field, e.g. "account"
    label: str
    # (user, reference) -> the context parts it provides, or None when nothing matches or the
    # user may not see it.
    lookup: Callable[[User, str], dict | None]
    # The placeholder groups its parts fill, to tell a person which record would fill a sample.
    provides: tuple[str, ...] = ()
    help_text: str = ""


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


@dataclass(frozen=True)
class PreviewContext:
    data: dict  # every group the template reads: real where a chosen record supplies it
    chosen: tuple[str, ...]  # "account dana@example.com", "case DSP-2026-00001"
    samples: tuple[str, ...]  # one readable note per group filled from the sample data


def preview_context(
    *, user: User, found: dict[str, tuple[str, dict]], texts: Iterable[str]
) -> PreviewContext:
    """The context to preview `texts` (a template's subject and body) with.

    `found` maps a source key to (the reference typed, the parts its lookup returned). A group a
    chosen record supplies is real (the record named after the group wins: an account chosen
    beside a case fills `account`); every other group the texts read comes from
    :func:`playbooks.rendering.schema.example_context` and is listed in `samples` with what would fill
    it. Nothing chosen: sample data throughout, no notes."""
    if not found:
        return PreviewContext(data=example_context(), chosen=(), samples=())
    data = specialist_context(user)
    for key, (_reference, parts) in found.items():
        for group, value in parts.items():
            if group not in data or group == key:
                data[group] = value
    chosen = tuple(f"{_sources[key].label.lower()} {reference}" for key, (reference, _parts) in found.items())
    reads = set().union(*(placeholder_roots(text) for text in texts if text))
    sample = example_context()
    notes = []
    for group in [name for name in sample if name in reads and name not in data]:
        data[group] = sample[group]
        notes.append(_sample_note(group, found))
    return PreviewContext(data=data, chosen=chosen, samples=tuple(notes))


def _sample_note(group: str, found: dict) -> str:
    name = group if group in LIST_PLACEHOLDERS else f"{group}.*"
    fillers = [s for s in _sources.values() if group in s.provides and s.key not in found]
    if fillers:
        choices = " or ".join(f"a {s.label.lower()}" for s in fillers)
        return f"{name} comes from sample data: choose {choices} to fill it."
    what = " and ".join(f"this {_sources[key].label.lower()}" for key in found)
    verb = "has" if len(found) == 1 else "have"
    return f"{name} comes from sample data: {what} {verb} no {group.replace('_', '-')} chosen."
