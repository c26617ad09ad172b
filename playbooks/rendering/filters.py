"""The filters and tests a response template may use: plain text in and out, and size-checked.

Each filter is wrapped so the characters it produces count against one budget per render
(:data:`~playbooks.rendering.schema.FILTER_BUDGET_CHARS`); the filters that could blow a value up
(``join``, ``replace``) check the size of their result before building it. The budget is set by the
render (:func:`playbooks.rendering.sandbox.render_compiled`); outside a render only the output limit
applies.
"""

from __future__ import annotations

import contextvars
import functools
import textwrap
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jinja2 import Environment, Undefined, pass_environment
from jinja2.filters import (
    do_capitalize,
    do_default,
    do_float,
    do_int,
    do_round,
    do_title,
    do_trim,
    do_truncate,
)

from playbooks.rendering.schema import MAX_OUTPUT_CHARS


class TooLarge(Exception):
    """Raised inside a render when the output or the filter budget is exceeded."""


#: Characters the filters of the current render may still produce, as a one-item list they all spend
#: from; a context variable so renders in concurrent threads each keep their own.
filter_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "response_template_budget", default=None
)


def _spend(chars: int) -> None:
    budget = filter_budget.get()
    if budget is None:
        return
    budget[0] -= chars
    if budget[0] < 0:
        raise TooLarge


def _ensure_room(chars: int) -> None:
    budget = filter_budget.get()
    limit = MAX_OUTPUT_CHARS if budget is None else min(MAX_OUTPUT_CHARS, budget[0])
    if chars > limit:
        raise TooLarge


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _metered(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        if isinstance(result, str):
            _spend(len(result))
        return result

    return wrapper


def _f_upper(value: Any) -> str:
    return _text(value).upper()


def _f_lower(value: Any) -> str:
    return _text(value).lower()


def _f_title(value: Any) -> str:
    return do_title(_text(value))


def _f_capitalize(value: Any) -> str:
    return do_capitalize(_text(value))


def _f_trim(value: Any, chars: str | None = None) -> str:
    return do_trim(_text(value), chars)


def _f_string(value: Any) -> str:
    return _text(value)


def _f_length(value: Any) -> int:
    return len(value)


def _f_join(value: Any, d: str = "", attribute: str | None = None) -> str:
    items = list(value)
    if attribute is not None:
        items = [item.get(attribute) if isinstance(item, dict) else None for item in items]
    texts = [_text(item) for item in items]
    separator = _text(d)
    _ensure_room(sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0))
    return separator.join(texts)


def _f_replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = _text(value), _text(old), _text(new)
    found = text.count(old) if old else len(text) + 1
    if count is not None:
        found = min(found, max(int(count), 0))
    _ensure_room(len(text) + found * (len(new) - len(old)))
    return text.replace(old, new, -1 if count is None else max(int(count), 0))


# Jinja hands the filter the environment it runs in (the sandbox's), which holds the truncate policy;
# taking it as an argument keeps this module free of an import of the sandbox built from it.
@pass_environment
def _f_truncate(
    env: Environment,
    value: Any,
    length: int = 255,
    killwords: bool = False,
    end: str = "...",
    leeway: int | None = None,
) -> str:
    return do_truncate(env, _text(value), int(length), killwords, _text(end), leeway)


def _f_wordwrap(
    value: Any, width: int = 79, break_long_words: bool = True, break_on_hyphens: bool = True
) -> str:
    width = int(width)
    if width < 1:
        raise ValueError("wordwrap needs a width of at least 1")
    # As Jinja's wordwrap, without its `wrapstring` (which could multiply the output).
    return "\n".join(
        "\n".join(
            textwrap.wrap(
                line,
                width=width,
                expand_tabs=False,
                replace_whitespace=False,
                break_long_words=break_long_words,
                break_on_hyphens=break_on_hyphens,
            )
        )
        for line in _text(value).splitlines()
    )


class FilterRule:
    def __init__(self, func, description, *, positional=0, keywords=(), accepts=("value",)):
        self.func = _metered(func)
        self.description = description
        self.positional = positional  # how many arguments may be given by position
        self.keywords = frozenset(keywords)
        self.accepts = accepts  # "value" (a single value) and/or "list" (citations)


FILTER_RULES: dict[str, FilterRule] = {
    "upper": FilterRule(_f_upper, "UPPER CASE"),
    "lower": FilterRule(_f_lower, "lower case"),
    "title": FilterRule(_f_title, "Title Case"),
    "capitalize": FilterRule(_f_capitalize, "First letter upper case, the rest lower case"),
    "trim": FilterRule(_f_trim, "Strip leading and trailing whitespace", positional=1, keywords=("chars",)),
    "default": FilterRule(
        do_default,
        'A fallback when the value is missing: |default("there"); |default("there", true) also replaces empty values',
        positional=2,
        keywords=("default_value", "boolean"),
    ),
    "join": FilterRule(
        _f_join,
        'Join a list: {{ citations|join("; ", attribute="source") }}',
        positional=1,
        keywords=("d", "attribute"),
        accepts=("list",),
    ),
    "length": FilterRule(_f_length, "How many characters (or list items)", accepts=("value", "list")),
    "truncate": FilterRule(
        _f_truncate,
        "Shorten to a number of characters: |truncate(200)",
        positional=4,
        keywords=("length", "killwords", "end", "leeway"),
    ),
    "wordwrap": FilterRule(
        _f_wordwrap,
        "Wrap lines at a width: |wordwrap(72)",
        positional=2,
        keywords=("width", "break_long_words", "break_on_hyphens"),
    ),
    "replace": FilterRule(
        _f_replace, 'Replace text: |replace("old", "new")', positional=3, keywords=("old", "new", "count")
    ),
    "round": FilterRule(
        do_round, "Round a number: |round(2)", positional=2, keywords=("precision", "method")
    ),
    "int": FilterRule(do_int, "Whole number", positional=2, keywords=("default", "base")),
    "float": FilterRule(do_float, "Decimal number", positional=1, keywords=("default",)),
    "string": FilterRule(_f_string, "As text"),
}

#: Filter name → what it does.
ALLOWED_FILTERS: dict[str, str] = {name: rule.description for name, rule in FILTER_RULES.items()}


def _t_defined(value: Any) -> bool:
    return not isinstance(value, Undefined)


def _t_undefined(value: Any) -> bool:
    return isinstance(value, Undefined)


def _t_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


TESTS: dict[str, Callable[[Any], bool]] = {
    "defined": _t_defined,
    "undefined": _t_undefined,
    "none": lambda value: value is None,
    "number": _t_number,
    "string": lambda value: isinstance(value, str),
    "odd": lambda value: _t_number(value) and value % 2 == 1,
    "even": lambda value: _t_number(value) and value % 2 == 0,
}
#: Tests usable with ``is``: ``{% if check_in is defined %}``, ``{% if loop.index is even %}``.
ALLOWED_TESTS = frozenset(TESTS)
# These look at whether something is there, so they accept a placeholder group too.
PRESENCE_TESTS = frozenset({"defined", "undefined", "none"})
