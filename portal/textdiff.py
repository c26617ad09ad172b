"""Readable HTML diffs of two versions of a plain-text document (market rules, rulebook sections).

`diff_html(old, new)` lists the document line by line: lines that were added or removed whole, and
edited lines with just the words that changed marked `<del>`/`<ins>`; long unchanged stretches are
folded down to a few lines of context. `diff_stats(old, new)` counts the same lines for a summary.

Only difflib is used. SequenceMatcher is quadratic in the worst case, so every comparison is
bounded: lines first, then (for very long lines) sentences, then words, and a block still too big
to compare word by word is shown whole as removed and added instead.
"""

import re
from collections import Counter
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

CONTEXT_LINES = 3
# An old and a new line are shown as one edited line, rather than one removed and one added, when
# this share of their distinct words is common to both (a cheap bag-of-words test) ...
PAIR_WORD_SIMILARITY = 0.5
# ... and, once diffed word by word, this share of their visible characters is kept in order.
PAIR_KEPT_SHARE = 0.4
# A word-level SequenceMatcher compares each common word ("the", "of") with every occurrence of
# it, so its cost grows with len(old) * len(new). Above this many word pairs a line is compared
# sentence by sentence, and a run of sentences still above it is shown whole as removed and added.
WORD_DIFF_LIMIT = 40_000
# Blocks of replaced lines up to this many line pairs are aligned optimally, bigger ones greedily
# with a short look-ahead (a wholesale rewrite would otherwise cost len(old) * len(new) tests).
ALIGN_LIMIT = 2_500
ALIGN_LOOKAHEAD = 8
# Pairs of equal lines (or sentences) SequenceMatcher may compare before repeated ones stop being
# used as anchors (a 300-line rules text with 60 blank lines makes about 4,000).
MATCH_BUDGET = 50_000

SAME, ADDED, REMOVED, CHANGED = "same", "added", "removed", "changed"
KEEP, DELETE, INSERT = "=", "-", "+"

# A token is a word joined to the next by punctuation that belongs inside words ("1,000", "3.5",
# "12:00", "don't", "R&D", "https://x.io/a"), or a run of other punctuation: a trailing "." or ","
# and brackets or quotes are tokens of their own, so a changed word shows without them. Each token
# carries the whitespace after it; tokens are matched without it.
_TOKEN_PATTERN = r"\w+(?:[-.,:'’/\\@&+]+\w+)*|[^\w\s]+"
_TOKEN = re.compile(_TOKEN_PATTERN)
_UNIT = re.compile(rf"({_TOKEN_PATTERN})(\s*)")
_SENTENCE_END = frozenset(".!?;")


def diff_html(old: str, new: str) -> SafeString:
    """The changes from `old` to `new` as one `<div class="diff">`; every piece of text is escaped."""
    lines = _compare(old, new)
    if all(kind == SAME for kind, _ in lines):
        return mark_safe('<div class="diff diff--none">No changes</div>')
    parts = ['<div class="diff">']
    run_start = None
    for index, (kind, payload) in enumerate([*lines, (None, None)]):
        if kind == SAME:
            if run_start is None:
                run_start = index
            continue
        if run_start is not None:
            parts.extend(_unchanged_run(lines, run_start, index))
            run_start = None
        if kind is not None:
            parts.append(_line_html(kind, payload))
    parts.append("</div>")
    return mark_safe("\n".join(parts))  # noqa: S308 - built only from escaped text and our markup


def diff_stats(old: str, new: str) -> dict[str, int]:
    """Counts of lines `added`, `removed`, `changed` (edited in place) and `unchanged`."""
    counts = {ADDED: 0, REMOVED: 0, CHANGED: 0, "unchanged": 0}
    for kind, _ in _compare(old, new):
        counts["unchanged" if kind == SAME else kind] += 1
    return counts


def _lines(text: str | None) -> list[str]:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _compare(old: str | None, new: str | None) -> list[tuple[str, object]]:
    """The document as (kind, payload) pairs: the line's text, or its segments when CHANGED."""
    a, b = _lines(old), _lines(new)
    if a == b:
        return [(SAME, line) for line in a]
    result: list[tuple[str, object]] = []
    for tag, i1, i2, j1, j2 in _matcher(a, b).get_opcodes():
        if tag == "equal":
            result.extend((SAME, line) for line in a[i1:i2])
        elif tag == "delete":
            result.extend((REMOVED, line) for line in a[i1:i2])
        elif tag == "insert":
            result.extend((ADDED, line) for line in b[j1:j2])
        else:
            result.extend(_replaced_block(a[i1:i2], b[j1:j2]))
    return result


def _matcher(a: list, b: list) -> SequenceMatcher:
    """A matcher for lines or sentences, which are mostly distinct but may repeat."""
    # autojunk stops items repeated more than 1% of the time (blank lines, repeated clauses)
    # anchoring the alignment, which shows untouched paragraphs as rewritten, so it stays off
    # unless the repeats are so many that comparing them pairwise would take too long.
    counts_b = Counter(b)
    pairwise = sum(n * counts_b[item] for item, n in Counter(a).items())
    return SequenceMatcher(None, a, b, autojunk=pairwise > MATCH_BUDGET)


def _replaced_block(old: list[str], new: list[str]) -> list[tuple[str, object]]:
    """Pair edited lines of a replaced block; the rest are removed (listed first) or added."""
    result: list[tuple[str, object]] = []
    removed: list[str] = []
    added: list[str] = []
    i = j = 0
    for pi, pj in _align(old, new):
        removed.extend(old[i:pi])
        added.extend(new[j:pj])
        i, j = pi + 1, pj + 1
        if old[pi] == new[pj]:  # only when autojunk left a repeated line unmatched
            paired: tuple[str, object] = (SAME, old[pi])
        else:
            segments = _inline(old[pi], new[pj])
            if _kept_share(segments) < PAIR_KEPT_SHARE:
                removed.append(old[pi])
                added.append(new[pj])
                continue
            paired = (CHANGED, segments)
        result.extend((REMOVED, line) for line in removed)
        result.extend((ADDED, line) for line in added)
        result.append(paired)
        removed, added = [], []
    removed.extend(old[i:])
    added.extend(new[j:])
    result.extend((REMOVED, line) for line in removed)
    result.extend((ADDED, line) for line in added)
    return result


def _align(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Increasing (old index, new index) pairs of lines similar enough to be one edited line."""
    words_old = [frozenset(_TOKEN.findall(line)) for line in old]
    words_new = [frozenset(_TOKEN.findall(line)) for line in new]

    def similarity(i: int, j: int) -> float:
        wa, wb = words_old[i], words_new[j]
        if not wa and not wb:
            return 1.0
        return 2 * len(wa & wb) / (len(wa) + len(wb))

    n, m = len(old), len(new)
    pairs: list[tuple[int, int]] = []
    if n * m > ALIGN_LIMIT:
        i = j = 0
        while i < n and j < m:
            if similarity(i, j) >= PAIR_WORD_SIMILARITY:
                pairs.append((i, j))
                i, j = i + 1, j + 1
                continue
            for step in range(1, ALIGN_LOOKAHEAD + 1):
                if j + step < m and similarity(i, j + step) >= PAIR_WORD_SIMILARITY:
                    j += step
                    break
                if i + step < n and similarity(i + step, j) >= PAIR_WORD_SIMILARITY:
                    i += step
                    break
            else:
                i, j = i + 1, j + 1
        return pairs

    # Best total similarity over monotone pairings (Needleman-Wunsch without gap costs).
    sims = [[similarity(i, j) for j in range(m)] for i in range(n)]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = max(score[i - 1][j], score[i][j - 1])
            s = sims[i - 1][j - 1]
            if s >= PAIR_WORD_SIMILARITY:
                best = max(best, score[i - 1][j - 1] + s)
            score[i][j] = best
    i, j = n, m
    while i and j:
        s = sims[i - 1][j - 1]
        if s >= PAIR_WORD_SIMILARITY and score[i][j] == score[i - 1][j - 1] + s:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif score[i][j] == score[i - 1][j]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return pairs


def _units(line: str) -> list[tuple[str, str]]:
    """(token, whitespace after it) pairs, led by ("", leading whitespace)."""
    body = line.lstrip()
    return [("", line[: len(line) - len(body)]), *_UNIT.findall(body)]


def _inline(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level (op, text) segments turning `old` into `new`; KEEP, DELETE or INSERT."""
    out: list[tuple[str, str]] = []
    _diff_units(_units(old), _units(new), out, by_sentence=True)
    merged: list[tuple[str, str]] = []
    for op, text in out:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _diff_units(a: list, b: list, out: list, *, by_sentence: bool) -> None:
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head][0] == b[head][0]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail][0] == b[-1 - tail][0]:
        tail += 1
    _keep(a[:head], b[:head], out)
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    size = len(mid_a) * len(mid_b)
    if size and size <= WORD_DIFF_LIMIT:
        _diff_words(mid_a, mid_b, out)
    elif size and by_sentence:
        _diff_sentences(mid_a, mid_b, out)
    else:
        _change(mid_a, mid_b, out)
    _keep(a[len(a) - tail :], b[len(b) - tail :], out)


def _diff_words(a: list, b: list, out: list) -> None:
    keys_a = [token for token, _ in a]
    keys_b = [token for token, _ in b]
    # Below 200 tokens autojunk does nothing; above, WORD_DIFF_LIMIT bounds the cost instead.
    opcodes = SequenceMatcher(None, keys_a, keys_b, autojunk=False).get_opcodes()
    # A lone short token kept between two changes ("a", ",") is folded into them, so a rewritten
    # phrase reads as one removal and one insertion rather than a comb of fragments.
    spans: list[list] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        changed = tag != "equal"
        if not changed and 0 < index < len(opcodes) - 1 and len("".join(keys_a[i1:i2])) <= 2:
            changed = True
        if changed and spans and spans[-1][0]:
            spans[-1][2], spans[-1][4] = i2, j2
        else:
            spans.append([changed, i1, i2, j1, j2])
    for changed, i1, i2, j1, j2 in spans:
        (_change if changed else _keep)(a[i1:i2], b[j1:j2], out)


def _diff_sentences(a: list, b: list, out: list) -> None:
    sentences_a, sentences_b = _sentences(a), _sentences(b)
    keys_a = [tuple(token for token, _ in s) for s in sentences_a]
    keys_b = [tuple(token for token, _ in s) for s in sentences_b]
    for tag, i1, i2, j1, j2 in _matcher(keys_a, keys_b).get_opcodes():
        ua = [unit for sentence in sentences_a[i1:i2] for unit in sentence]
        ub = [unit for sentence in sentences_b[j1:j2] for unit in sentence]
        if tag == "equal":
            _keep(ua, ub, out)
        else:
            _diff_units(ua, ub, out, by_sentence=False)


def _sentences(units: list) -> list[list]:
    sentences: list[list] = [[]]
    for unit in units:
        sentences[-1].append(unit)
        token, space = unit
        if space and token and token[-1] in _SENTENCE_END:
            sentences.append([])
    return [s for s in sentences if s]


def _keep(a: list, b: list, out: list) -> None:
    """Matched tokens; only whitespace may differ between the two sides."""
    for (token, space_a), (_, space_b) in zip(a, b, strict=True):
        out.append((KEEP, token))
        if space_a == space_b:
            out.append((KEEP, space_a))
        else:
            out.extend(((DELETE, space_a), (INSERT, space_b)))


def _change(a: list, b: list, out: list) -> None:
    removed = "".join(token + space for token, space in a)
    added = "".join(token + space for token, space in b)
    trailing = ""
    if removed and added:
        space_a, space_b = removed[len(removed.rstrip()) :], added[len(added.rstrip()) :]
        if space_a == space_b and removed.strip() and added.strip():
            trailing = space_a
            removed, added = removed[: len(removed) - len(trailing)], added[: len(added) - len(trailing)]
    out.extend(((DELETE, removed), (INSERT, added), (KEEP, trailing)))


def _kept_share(segments: list[tuple[str, str]]) -> float:
    counts = {KEEP: 0, DELETE: 0, INSERT: 0}
    for op, text in segments:
        counts[op] += len("".join(text.split()))
    total = 2 * counts[KEEP] + counts[DELETE] + counts[INSERT]
    return 2 * counts[KEEP] / total if total else 1.0


def _unchanged_run(lines: list, start: int, end: int) -> list[str]:
    """Unchanged lines [start, end), folded to CONTEXT_LINES beside each change."""
    before = 0 if start == 0 else CONTEXT_LINES
    after = 0 if end == len(lines) else CONTEXT_LINES
    hidden = end - start - before - after
    if hidden < 2:  # a marker in place of one line saves nothing
        return [_line_html(SAME, text) for _, text in lines[start:end]]
    return [
        *(_line_html(SAME, text) for _, text in lines[start : start + before]),
        f'<div class="diff__skip">… {hidden} unchanged lines …</div>',
        *(_line_html(SAME, text) for _, text in lines[end - after : end]),
    ]


def _line_html(kind: str, payload) -> str:
    if kind == CHANGED:
        body = "".join(_segment_html(op, text) for op, text in payload)
    elif kind == ADDED:
        body = _segment_html(INSERT, payload)
    elif kind == REMOVED:
        body = _segment_html(DELETE, payload)
    else:
        body = escape(payload)
    return f'<div class="diff__line diff__line--{kind}">{body}</div>'


def _segment_html(op: str, text: str) -> str:
    if op == KEEP or not text:
        return escape(text)
    tag = "ins" if op == INSERT else "del"
    # Whitespace-only changes would be invisible; the class lets the stylesheet outline them.
    css = ' class="diff__ws"' if text.isspace() else ""
    return f"<{tag}{css}>{escape(text)}</{tag}>"
