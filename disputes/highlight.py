"""Rule text with the excerpts a decision cites marked in it.

Excerpts are matched the way citations are checked (white space collapsed, curly quotes made
straight), so the match is found in the normalised text and mapped back to the original
characters before the text is escaped and marked up."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from disputes.services.cases import QUOTES, normalise_text


def _normalised_with_positions(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, its index in `text`."""
    chars, positions = [], []
    pending_space = None
    for index, char in enumerate(text.translate(QUOTES)):
        if char.isspace():
            if chars and pending_space is None:
                pending_space = index
            continue
        if pending_space is not None:
            chars.append(" ")
            positions.append(pending_space)
            pending_space = None
        chars.append(char)
        positions.append(index)
    return "".join(chars), positions


def excerpt_spans(text: str, excerpts: list[str]) -> list[tuple[int, int]]:
    """(start, end) character ranges of `text` covered by any excerpt, merged and sorted."""
    normalised, positions = _normalised_with_positions(text)
    spans = []
    for excerpt in excerpts:
        needle = normalise_text(excerpt)
        if not needle:
            continue
        for match in re.finditer(re.escape(needle), normalised):
            spans.append((positions[match.start()], positions[match.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlighted(text: str, excerpts: list[str]) -> SafeString:
    """`text` escaped for HTML, with each cited excerpt in a <mark>."""
    parts, cursor = [], 0
    for start, end in excerpt_spans(text, excerpts):
        parts.append(escape(text[cursor:start]))
        parts.append(f'<mark class="cited">{escape(text[start:end])}</mark>')
        cursor = end
    parts.append(escape(text[cursor:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
