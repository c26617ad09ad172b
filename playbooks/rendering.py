"""The strict, sandboxed renderer for response templates (subject and body written by specialists).

A response template is Jinja2 source such as ``Hi {{ account.first_name }}, about {{ case.reference }}…``.
It is rendered by :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` with ``StrictUndefined`` over a
context of plain values (dicts, lists, strings, numbers, booleans, ``None``), never over model
instances — so a template can't follow a relation, call a method, load a file or run code.

Three layers keep it that way:

1. :func:`validate_template` (run when a template is saved, and again before every first render of a
   source) parses the source and walks its syntax tree against an allowlist: only the documented
   placeholders in :data:`PLACEHOLDERS` (plus ``citation``/``loop`` inside ``{% for … in citations %}``)
   may be read, only the filters in :data:`ALLOWED_FILTERS` and the tests in :data:`ALLOWED_TESTS` may be
   used, and nothing may be called. Statements other than ``{% if %}`` and ``{% for %}`` (``include``,
   ``import``, ``extends``, ``macro``, ``set``, …), arithmetic, nested loops and underscore names are
   refused. Every problem becomes a readable message such as
   ``"Line 2: Unknown placeholder account.password (account has: display_name, …)."``.
   The template is then tried once against :func:`example_context`, so a filter used on the wrong kind
   of value is caught when saving too.
2. The environment itself has no loader, no globals (no ``range``, ``lipsum``, ``cycler``,
   ``namespace``…), only the allowed filters, refuses arithmetic operators, refuses every call and every
   real Python attribute (dict keys are the only things a template can read; ``loop.index`` and friends
   are the one exception).
3. Rendering has budgets: sources are at most :data:`MAX_SOURCE_CHARS` characters, output at most
   :data:`MAX_OUTPUT_CHARS` characters, and the filters that could blow a value up (``join``, ``replace``)
   check the size of their result before building it.

Autoescaping is OFF: the output is plain text for Intercom and e-mail. Callers that show a rendered
template in HTML (a preview, say) must escape it there — Django's ``{{ }}`` does, ``|safe`` must never
be used on it.

A missing value is an error, not a silent blank: rendering with a context that lacks a placeholder the
template uses raises :class:`TemplateProblem`, unless the template says what to do with
``{{ x|default("…") }}`` or ``{% if x is defined %}``. ``None`` values render as an empty string.

Compiled templates are cached per source (LRU, 256 entries), shared by :func:`validate_template` and
:func:`render_template`, so validating a template when it is saved also warms the cache of that process.
Measured on the development machine (2 vCPUs) with a realistic 2,004-character template (every placeholder
group, a citations loop with ``loop`` counters, ``join``/``truncate``/``wordwrap``/``default``): a cached
render takes about 0.14 ms (1,000 renders, including :func:`plain_context` on the context). The first
render of a source not yet in the cache takes about 8 ms — Jinja's parse (~2.6 ms), code generation
(~2.5 ms) and Python compile (~1.6 ms), plus the check and trial render (~0.3 ms) — so the 5 ms budget holds
for cached sources only; warm the cache (``validate_template``) for templates that must be fast on first use.
"""

from __future__ import annotations

import contextvars
import functools
import textwrap
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, UndefinedError, nodes
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
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

__all__ = [
    "ALLOWED_FILTERS",
    "ALLOWED_TESTS",
    "LIST_PLACEHOLDERS",
    "LOOP_ATTRIBUTES",
    "MAX_OUTPUT_CHARS",
    "MAX_SOURCE_CHARS",
    "PLACEHOLDERS",
    "ROOT_DESCRIPTIONS",
    "TemplateProblem",
    "example_context",
    "placeholder_help",
    "placeholder_roots",
    "plain_context",
    "render_preview",
    "render_template",
    "validate_template",
]

# --------------------------------------------------------------------------------------------------
# The documented schema
# --------------------------------------------------------------------------------------------------

PLACEHOLDERS: dict[str, dict[str, str]] = {
    "account": {
        "display_name": "The account's name",
        "first_name": "First word of the account's name",
        "email": "The account's e-mail address",
        "tier": "The account's support tier",
        "owner_name": "Name of the specialist who owns the account",
        "venue": "The account's venue (International or US)",
    },
    "specialist": {
        "name": "Your full name (the person sending)",
        "first_name": "Your first name",
        "email": "Your e-mail address",
    },
    "case": {
        "reference": "The case reference, e.g. DC-2025-0042",
        "category": "The case category",
        "status": "The case status",
        "claim": "What the trader claims",
        "requested_remedy": "The remedy the trader asked for",
        "amount_at_stake": "The amount at stake, e.g. 1250.00",
        "currency": "The currency of the amount, e.g. USD",
        "resolution_due": "When a resolution is due (formatted date and time)",
    },
    "market": {
        "question": "The market's question",
        "url": "Link to the market",
        "resolved_outcome": "The outcome the market resolved to",
        "end_date": "When the market ended (formatted date)",
    },
    "decision": {
        "outcome": "The decision's outcome",
        "rationale": "Why it was decided so",
        "remedy": "The remedy granted, if any",
    },
    "citations": {
        "excerpt": "The quoted rule passage",
        "source": "Where the passage comes from (rule version or rulebook section)",
    },
    "check_in": {
        "next_due": "When the next check-in is due (formatted date)",
        "channel": "The channel of the check-in",
    },
    "escalation": {
        "level": "The escalation level",
        "reason": "Why the case was escalated",
        "deadline": "When the escalation must be answered (formatted date and time)",
    },
    "feedback": {
        "summary": "The feedback as logged",
        "status": "Where the feedback stands with the product team",
    },
}

ROOT_DESCRIPTIONS: dict[str, str] = {
    "account": "The trader's account",
    "specialist": "You, the person sending",
    "case": "The dispute case",
    "market": "The market the case is about",
    "decision": "The decision on the case",
    "citations": "The rule passages the decision cites (a list)",
    "check_in": "The check-in",
    "escalation": "The escalation",
    "feedback": "The product feedback",
}

#: Roots that are lists, with the loop variable name the help suggests for one item.
LIST_PLACEHOLDERS: dict[str, str] = {"citations": "citation"}

#: What a template may read from ``loop`` inside a ``{% for %}``.
LOOP_ATTRIBUTES: dict[str, str] = {
    "index": "The item's number, counting from 1",
    "index0": "The item's number, counting from 0",
    "revindex": "Items left, counting down to 1",
    "revindex0": "Items left, counting down to 0",
    "first": "True for the first item",
    "last": "True for the last item",
    "length": "How many items there are",
}

MAX_SOURCE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
#: Characters all filters of one render may produce together (chained filters each count).
FILTER_BUDGET_CHARS = 10 * MAX_OUTPUT_CHARS
#: Longest list a context may hold (citations); keeps loops cheap.
MAX_LIST_ITEMS = 200
_MAX_CONTEXT_DEPTH = 6


def placeholder_help() -> list[tuple[str, str]]:
    """Every placeholder as (snippet, description), in schema order, for a help panel."""
    rows: list[tuple[str, str]] = []
    for root, attributes in PLACEHOLDERS.items():
        if root in LIST_PLACEHOLDERS:
            item = LIST_PLACEHOLDERS[root]
            rows.append(
                (
                    f"{{% for {item} in {root} %}}…{{% endfor %}}",
                    f"Repeat for each of {ROOT_DESCRIPTIONS[root].lower()}",
                )
            )
            rows.extend(
                (f"{{{{ {item}.{name} }}}}", f"Inside the loop: {description[0].lower()}{description[1:]}")
                for name, description in attributes.items()
            )
            rows.append((f"{{{{ {root}|length }}}}", f"How many {root} there are"))
        else:
            rows.extend((f"{{{{ {root}.{name} }}}}", description) for name, description in attributes.items())
    rows.extend(
        (f"{{{{ loop.{name} }}}}", f"Inside a loop: {description[0].lower()}{description[1:]}")
        for name, description in LOOP_ATTRIBUTES.items()
    )
    return rows


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class TemplateProblem(ValueError):
    """A template that can't be saved or rendered; ``messages`` are readable as they are."""

    def __init__(self, messages: Iterable[str]):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


class _TooLarge(Exception):
    """Raised inside a render when the output or the filter budget is exceeded."""


# --------------------------------------------------------------------------------------------------
# Filters (plain-text, size-checked)
# --------------------------------------------------------------------------------------------------

_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "response_template_budget", default=None
)


def _spend(chars: int) -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget[0] -= chars
    if budget[0] < 0:
        raise _TooLarge


def _ensure_room(chars: int) -> None:
    budget = _budget.get()
    limit = MAX_OUTPUT_CHARS if budget is None else min(MAX_OUTPUT_CHARS, budget[0])
    if chars > limit:
        raise _TooLarge


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


def _f_truncate(
    value: Any, length: int = 255, killwords: bool = False, end: str = "...", leeway: int | None = None
) -> str:
    return do_truncate(_ENV, _text(value), int(length), killwords, _text(end), leeway)


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


class _FilterRule:
    def __init__(self, func, description, *, positional=0, keywords=(), accepts=("value",)):
        self.func = _metered(func)
        self.description = description
        self.positional = positional  # how many arguments may be given by position
        self.keywords = frozenset(keywords)
        self.accepts = accepts  # "value" (a single value) and/or "list" (citations)


_FILTER_RULES: dict[str, _FilterRule] = {
    "upper": _FilterRule(_f_upper, "UPPER CASE"),
    "lower": _FilterRule(_f_lower, "lower case"),
    "title": _FilterRule(_f_title, "Title Case"),
    "capitalize": _FilterRule(_f_capitalize, "First letter upper case, the rest lower case"),
    "trim": _FilterRule(_f_trim, "Strip leading and trailing whitespace", positional=1, keywords=("chars",)),
    "default": _FilterRule(
        do_default,
        'A fallback when the value is missing: |default("there"); |default("there", true) also replaces empty values',
        positional=2,
        keywords=("default_value", "boolean"),
    ),
    "join": _FilterRule(
        _f_join,
        'Join a list: {{ citations|join("; ", attribute="source") }}',
        positional=1,
        keywords=("d", "attribute"),
        accepts=("list",),
    ),
    "length": _FilterRule(_f_length, "How many characters (or list items)", accepts=("value", "list")),
    "truncate": _FilterRule(
        _f_truncate,
        "Shorten to a number of characters: |truncate(200)",
        positional=4,
        keywords=("length", "killwords", "end", "leeway"),
    ),
    "wordwrap": _FilterRule(
        _f_wordwrap,
        "Wrap lines at a width: |wordwrap(72)",
        positional=2,
        keywords=("width", "break_long_words", "break_on_hyphens"),
    ),
    "replace": _FilterRule(
        _f_replace, 'Replace text: |replace("old", "new")', positional=3, keywords=("old", "new", "count")
    ),
    "round": _FilterRule(
        do_round, "Round a number: |round(2)", positional=2, keywords=("precision", "method")
    ),
    "int": _FilterRule(do_int, "Whole number", positional=2, keywords=("default", "base")),
    "float": _FilterRule(do_float, "Decimal number", positional=1, keywords=("default",)),
    "string": _FilterRule(_f_string, "As text"),
}

#: Filter name → what it does.
ALLOWED_FILTERS: dict[str, str] = {name: rule.description for name, rule in _FILTER_RULES.items()}


def _t_defined(value: Any) -> bool:
    return not isinstance(value, Undefined)


def _t_undefined(value: Any) -> bool:
    return isinstance(value, Undefined)


def _t_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


_TESTS: dict[str, Callable[[Any], bool]] = {
    "defined": _t_defined,
    "undefined": _t_undefined,
    "none": lambda value: value is None,
    "number": _t_number,
    "string": lambda value: isinstance(value, str),
    "odd": lambda value: _t_number(value) and value % 2 == 1,
    "even": lambda value: _t_number(value) and value % 2 == 0,
}
#: Tests usable with ``is``: ``{% if check_in is defined %}``, ``{% if loop.index is even %}``.
ALLOWED_TESTS = frozenset(_TESTS)
# These look at whether something is there, so they accept a placeholder group too.
_PRESENCE_TESTS = frozenset({"defined", "undefined", "none"})


# --------------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------------

_ARITHMETIC = frozenset({"+", "-", "*", "/", "//", "%", "**"})


class _ResponseSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with everything a response template doesn't need taken away."""

    intercepted_binops = _ARITHMETIC
    intercepted_unops = frozenset({"+", "-"})

    def call_binop(self, context, operator, left, right):
        raise SecurityError(f"arithmetic ({operator}) isn't available in response templates")

    def call_unop(self, context, operator, arg):
        raise SecurityError(f"arithmetic ({operator}) isn't available in response templates")

    def is_safe_attribute(self, obj, attr, value):
        # Context values are plain data, read by key; the loop counters are the only attributes.
        return isinstance(obj, LoopContext) and attr in LOOP_ATTRIBUTES

    def is_safe_callable(self, obj):
        return False

    def getattr(self, obj, attribute):
        if isinstance(obj, dict):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(f"no value for the field {attribute!r}", obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, dict):
            return self.getattr(obj, argument)
        return super().getitem(obj, argument)


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def _make_environment() -> _ResponseSandbox:
    env = _ResponseSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        loader=None,
        finalize=_finalize,
        cache_size=0,
        auto_reload=False,
        # No constant folding: nothing of a template is evaluated while compiling it.
        optimized=False,
    )
    env.globals.clear()
    env.filters = {name: rule.func for name, rule in _FILTER_RULES.items()}
    env.tests = dict(_TESTS)
    return env


_ENV = _make_environment()


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------

_Scope = dict[str, tuple[str, ...]]
_LEAF = ("leaf",)
_LOOP = ("loop",)

_STATEMENT_LABELS: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %} isn't allowed: response templates can't load other templates",
    nodes.Extends: "{% extends %} isn't allowed: response templates can't load other templates",
    nodes.Import: "{% import %} isn't allowed: response templates can't load other templates",
    nodes.FromImport: "{% from … import %} isn't allowed: response templates can't load other templates",
    nodes.Block: "{% block %} isn't allowed in response templates",
    nodes.Macro: "{% macro %} isn't allowed in response templates",
    nodes.CallBlock: "{% call %} isn't allowed in response templates",
    nodes.Assign: "{% set %} isn't allowed in response templates",
    nodes.AssignBlock: "{% set %} isn't allowed in response templates",
    nodes.FilterBlock: "{% filter %} isn't allowed in response templates; use a filter on the placeholder",
    nodes.With: "{% with %} isn't allowed in response templates",
    nodes.ScopedEvalContextModifier: "{% autoescape %} isn't allowed in response templates",
    nodes.EvalContextModifier: "{% autoescape %} isn't allowed in response templates",
}

_EXPRESSION_LABELS: dict[type[nodes.Node], str] = {
    nodes.Add: "arithmetic (+) isn't allowed; join text with ~",
    nodes.Sub: "arithmetic (-) isn't allowed",
    nodes.Mul: "arithmetic (*) isn't allowed",
    nodes.Div: "arithmetic (/) isn't allowed",
    nodes.FloorDiv: "arithmetic (//) isn't allowed",
    nodes.Mod: "the % operator isn't allowed",
    nodes.Pow: "arithmetic (**) isn't allowed",
    nodes.Neg: "arithmetic (-) isn't allowed",
    nodes.Pos: "arithmetic (+) isn't allowed",
    nodes.Dict: "dictionaries ({…}) aren't allowed",
    nodes.Slice: "slices ([a:b]) aren't allowed",
    nodes.NSRef: "namespaces aren't allowed",
}

_ALLOWED_COMPARISONS = frozenset({"eq", "ne", "gt", "gteq", "lt", "lteq", "in", "notin"})


def _describe(node: nodes.Node) -> str:
    """A short source-like rendering of an expression, for messages."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        arg = node.arg
        inner = _describe(arg) if not isinstance(arg, nodes.Slice) else "…:…"
        return f"{_describe(node.node)}[{inner}]"
    if isinstance(node, nodes.Call):
        return f"{_describe(node.node)}(…)"
    if isinstance(node, nodes.Filter) and node.node is not None:
        return f"{_describe(node.node)}|{node.name}"
    return "…"


def _fields(kind: tuple[str, ...]) -> dict[str, str]:
    if kind[0] in ("group", "item"):
        return PLACEHOLDERS[kind[1]]
    if kind == _LOOP:
        return LOOP_ATTRIBUTES
    return {}


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, node: nodes.Node | None, message: str) -> None:
        line = getattr(node, "lineno", None)
        text = f"Line {line}: {message}" if line else message
        if not text.endswith((".", "?", "!")):
            text += "."
        if text not in self.problems:
            self.problems.append(text)

    # --- statements -------------------------------------------------------------------------------

    def statements(self, body: Iterable[nodes.Node], scope: _Scope) -> None:
        for node in body:
            self.statement(node, scope)

    def statement(self, node: nodes.Node, scope: _Scope) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if not isinstance(child, nodes.TemplateData):
                    self.value(child, scope)
        elif isinstance(node, nodes.If):
            self.condition(node.test, scope)
            self.statements(node.body, scope)
            for branch in node.elif_:
                self.statement(branch, scope)
            self.statements(node.else_, scope)
        elif isinstance(node, nodes.For):
            self.for_loop(node, scope)
        elif type(node) in _STATEMENT_LABELS:
            self.problem(node, _STATEMENT_LABELS[type(node)])
        else:
            self.problem(
                node, f"this kind of statement ({type(node).__name__}) isn't allowed in response templates"
            )

    def for_loop(self, node: nodes.For, scope: _Scope) -> None:
        if "loop" in scope:
            self.problem(node, "loops can't be nested in response templates")
            return
        if node.recursive:
            self.problem(node, "recursive loops aren't allowed in response templates")
        target = node.target
        lists = ", ".join(LIST_PLACEHOLDERS)
        kind = self.expression(node.iter, scope)
        if kind is not None and kind[0] != "list":
            self.problem(node, f"{{% for %}} can only loop over {lists}, not over {_describe(node.iter)}")
            kind = None
        if not isinstance(target, nodes.Name):
            self.problem(node, "a {% for %} loop takes one name, as in {% for citation in citations %}")
            return
        if target.name in PLACEHOLDERS or target.name == "loop" or target.name.startswith("_"):
            self.problem(node, f"the loop variable can't be called {target.name!r}; use e.g. 'citation'")
            return
        inner = dict(scope)
        inner[target.name] = ("item", kind[1]) if kind else ("unknown",)
        if node.test is not None:
            self.condition(node.test, inner)
        inner["loop"] = _LOOP
        self.statements(node.body, inner)
        self.statements(node.else_, scope)

    # --- expressions ------------------------------------------------------------------------------

    def value(self, node: nodes.Node, scope: _Scope) -> None:
        """An expression whose result is used as a single value (printed, compared, filtered)."""
        self.require_single(node, self.expression(node, scope, mode="value"))

    def require_single(self, node: nodes.Node, kind: tuple[str, ...] | None) -> None:
        if kind is None or kind == _LEAF or kind == ("unknown",):
            return
        shown = _describe(node)
        if kind[0] == "group":
            names = ", ".join(f"{kind[1]}.{name}" for name in PLACEHOLDERS[kind[1]])
            self.problem(node, f"{shown} is a group of placeholders; use one of {names}")
        elif kind[0] == "list":
            item = LIST_PLACEHOLDERS[kind[1]]
            self.problem(
                node,
                f"{shown} is a list; loop over it with {{% for {item} in {shown} %}}…{{% endfor %}} or use {shown}|length",
            )
        elif kind[0] == "item":
            names = " or ".join(f"{shown}.{name}" for name in PLACEHOLDERS[kind[1]])
            self.problem(node, f"{shown} is one of the {kind[1]}; use {names}")
        elif kind == _LOOP:
            self.problem(node, f"use one of {', '.join('loop.' + name for name in LOOP_ATTRIBUTES)}")

    def condition(self, node: nodes.Node, scope: _Scope) -> None:
        """An expression only tested for truth: a group or a list may stand there."""
        self.expression(node, scope, mode="condition")

    def operand(self, node: nodes.Node, scope: _Scope, mode: str) -> None:
        if mode == "condition":
            self.condition(node, scope)
        else:
            self.value(node, scope)

    def expression(self, node: nodes.Node, scope: _Scope, mode: str = "value") -> tuple[str, ...] | None:
        """Check an expression; return what it stands for (a kind) or None when it was refused."""
        if isinstance(node, nodes.Const):
            return _LEAF
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            return self.path(node, scope)
        if isinstance(node, nodes.Call):
            self.problem(
                node,
                f"{_describe(node)} calls a function or method, which isn't allowed in response templates; "
                "use a filter instead, e.g. {{ account.display_name|upper }}",
            )
            return None
        if isinstance(node, nodes.Filter):
            return self.filter(node, scope)
        if isinstance(node, nodes.Test):
            return self.test(node, scope)
        if isinstance(node, nodes.Not):
            self.condition(node.node, scope)
            return _LEAF
        if isinstance(node, nodes.And | nodes.Or):
            self.operand(node.left, scope, mode)
            self.operand(node.right, scope, mode)
            return _LEAF
        if isinstance(node, nodes.CondExpr):
            self.condition(node.test, scope)
            self.operand(node.expr1, scope, mode)
            if node.expr2 is None:
                self.problem(node, "an inline 'if' needs an 'else', as in {{ a if b else c }}")
            else:
                self.operand(node.expr2, scope, mode)
            return _LEAF
        if isinstance(node, nodes.Compare):
            self.value(node.expr, scope)
            for operand in node.ops:
                if operand.op not in _ALLOWED_COMPARISONS:  # pragma: no cover - the parser makes no others
                    self.problem(node, f"the comparison {operand.op!r} isn't allowed")
                self.value(operand.expr, scope)
            return _LEAF
        if isinstance(node, nodes.Concat):
            for child in node.nodes:
                self.value(child, scope)
            return _LEAF
        if isinstance(node, nodes.List | nodes.Tuple):
            for child in node.items:
                self.value(child, scope)
            return _LEAF
        label = _EXPRESSION_LABELS.get(type(node))
        if label:
            self.problem(node, f"{label} in response templates")
        else:
            self.problem(
                node, f"this kind of expression ({type(node).__name__}) isn't allowed in response templates"
            )
        return None

    def path(self, node: nodes.Node, scope: _Scope) -> tuple[str, ...] | None:
        """A placeholder read: a name followed by .attribute / ['key'] lookups."""
        segments: list[str] = []
        base = node
        while isinstance(base, nodes.Getattr | nodes.Getitem):
            if isinstance(base, nodes.Getattr):
                segments.append(base.attr)
            elif isinstance(base.arg, nodes.Const) and isinstance(base.arg.value, str):
                segments.append(base.arg.value)
            else:
                self.problem(
                    node,
                    f"{_describe(base)}: only a placeholder's named fields can be read, not by position or expression",
                )
                return None
            base = base.node
        segments.reverse()
        if not isinstance(base, nodes.Name):
            self.problem(
                node,
                f"{_describe(node)}: fields can only be read from placeholders, not from {_describe(base)}",
            )
            return None
        full = ".".join([base.name, *segments])
        if base.ctx != "load":  # pragma: no cover - only loop targets store, handled in for_loop
            self.problem(node, f"{full} can't be assigned to")
            return None
        if base.name in scope:
            kind = scope[base.name]
        elif base.name in PLACEHOLDERS:
            kind = ("list", base.name) if base.name in LIST_PLACEHOLDERS else ("group", base.name)
        else:
            self.problem(node, f"Unknown placeholder {full} (available: {', '.join(PLACEHOLDERS)})")
            return None
        if kind == ("unknown",):
            return kind
        walked = base.name
        for segment in segments:
            fields = _fields(kind)
            if segment in fields:
                kind = _LEAF
            else:
                self.problem(node, f"Unknown placeholder {full} ({self.hint(walked, kind)})")
                return None
            walked = f"{walked}.{segment}"
        return kind

    @staticmethod
    def hint(walked: str, kind: tuple[str, ...]) -> str:
        if kind[0] == "list":
            item = LIST_PLACEHOLDERS[kind[1]]
            fields = ", ".join(f"{item}.{name}" for name in PLACEHOLDERS[kind[1]])
            return f"{walked} is a list; use {{% for {item} in {walked} %}} and {fields}"
        fields = _fields(kind)
        if fields:
            return f"{walked} has: {', '.join(fields)}"
        return f"{walked} is a single value and has no fields"

    def filter(self, node: nodes.Filter, scope: _Scope) -> tuple[str, ...] | None:
        rule = _FILTER_RULES.get(node.name)
        if rule is None:
            self.problem(node, f"Unknown filter {node.name!r} (available: {', '.join(_FILTER_RULES)})")
            return None
        if node.node is None:  # pragma: no cover - only {% filter %} blocks, refused as statements
            return None
        kind = self.expression(node.node, scope, mode="value")
        if kind is not None and kind != ("unknown",):
            if kind[0] == "list":
                if "list" not in rule.accepts:
                    self.problem(
                        node, f"the {node.name!r} filter can't be used on the list {_describe(node.node)}"
                    )
            elif "value" not in rule.accepts:
                self.problem(node, f"the {node.name!r} filter only works on a list such as citations")
            else:
                self.require_single(node.node, kind)
        self.arguments(node, rule, kind, scope)
        return _LEAF

    def arguments(
        self,
        node: nodes.Filter,
        rule: _FilterRule,
        kind: tuple[str, ...] | None,
        scope: _Scope,
    ) -> None:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            self.problem(node, f"the {node.name!r} filter can't take *args or **kwargs")
        if len(node.args) > rule.positional:
            self.problem(node, f"the {node.name!r} filter takes at most {rule.positional} argument(s)")
        for arg in node.args:
            self.value(arg, scope)
        for keyword in node.kwargs:
            if keyword.key not in rule.keywords:
                self.problem(node, f"the {node.name!r} filter has no option {keyword.key!r}")
                continue
            if keyword.key == "attribute":
                item_fields = PLACEHOLDERS[kind[1]] if kind and kind[0] == "list" else {}
                value = keyword.value
                if not (isinstance(value, nodes.Const) and value.value in item_fields):
                    options = ", ".join(repr(name) for name in item_fields) or "a field name"
                    self.problem(node, f"attribute= of the {node.name!r} filter must be one of {options}")
                continue
            self.value(keyword.value, scope)
        if (
            node.name == "join"
            and kind
            and kind[0] == "list"
            and not any(k.key == "attribute" for k in node.kwargs)
        ):
            item = LIST_PLACEHOLDERS[kind[1]]
            example = next(iter(PLACEHOLDERS[kind[1]]))
            self.problem(
                node,
                f'join {kind[1]} by one of their fields, as in {kind[1]}|join("; ", attribute="{example}") (a {item} has: {", ".join(PLACEHOLDERS[kind[1]])})',
            )

    def test(self, node: nodes.Test, scope: _Scope) -> tuple[str, ...] | None:
        if node.name not in _TESTS:
            self.problem(node, f"Unknown test {node.name!r} (available: {', '.join(_TESTS)})")
            return None
        if node.args or node.kwargs or node.dyn_args is not None or node.dyn_kwargs is not None:
            self.problem(node, f"the {node.name!r} test takes no arguments")
        if node.name in _PRESENCE_TESTS:
            self.condition(node.node, scope)
        else:
            self.value(node.node, scope)
        return _LEAF


def _parse(source: str) -> tuple[list[str], nodes.Template | None]:
    """Parse and check a source: (problems, syntax tree)."""
    if not isinstance(source, str):
        return ["The template must be text."], None
    if len(source) > MAX_SOURCE_CHARS:
        return [f"The template is too long ({len(source):,} characters; at most {MAX_SOURCE_CHARS:,})."], None
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"Line {exc.lineno}: {exc.message}" if exc.lineno else str(exc.message)], None
    validator = _Validator()
    validator.statements(tree.body, {})
    return validator.problems, tree


@functools.lru_cache(maxsize=256)
def _compiled(source: str):
    """Validate, compile and try a source once; returns (problems, template or None). Cached."""
    problems, tree = _parse(source)
    if problems or tree is None:
        return tuple(problems), None
    try:
        # Compiled from the tree already checked (one parse, and the checked tree is what runs).
        template = _ENV.template_class.from_code(_ENV, _ENV.compile(tree), _ENV.make_globals(None))
    except TemplateError as exc:  # pragma: no cover - validation refuses what the compiler would
        return (f"The template can't be compiled: {exc}",), None
    try:
        _render(template, example_context())
    except TemplateProblem as exc:
        return tuple(f"{message.rstrip('.')} (tried with the sample data)." for message in exc.messages), None
    return (), template


def placeholder_roots(source: str) -> frozenset[str]:
    """The placeholder groups a source reads (``{"account", "case"}``), for a preview that must
    know which parts of its context a template needs. A loop variable named like a group does not
    count as reading it; a source that does not parse reads nothing (rendering it reports why)."""
    _problems, tree = _parse(source)
    if tree is None:
        return frozenset()
    loaded = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
    loop_names: set[str] = set()
    for loop in tree.find_all(nodes.For):
        targets = [loop.target, *loop.target.find_all(nodes.Name)]
        loop_names |= {target.name for target in targets if isinstance(target, nodes.Name)}
    return frozenset(name for name in loaded - loop_names if name in PLACEHOLDERS)


def validate_template(source: str) -> list[str]:
    """Readable problems with a template source; an empty list when it can be saved.

    Checks syntax (``"Line 3: unexpected '}'"``), that every placeholder, filter and test is documented,
    that nothing is called or loaded, and that the template renders with :func:`example_context`.
    """
    return list(_compiled(source)[0])


# --------------------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------------------


def _plain(value: Any, where: str, depth: int) -> Any:
    if value is None or type(value) is bool:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)  # a plain str, even from a subclass (TextChoices, SafeString)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if depth >= _MAX_CONTEXT_DEPTH:
        raise TypeError(f"{where} is nested too deeply for a response template")
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("_"):
                raise TypeError(f"{where} has the key {key!r}; keys must be text not starting with '_'")
            plain[str.__str__(key)] = _plain(item, f"{where}.{key}", depth + 1)
        return plain
    if isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise TypeError(f"{where} has {len(value)} items; at most {MAX_LIST_ITEMS}")
        return [_plain(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value)]
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}; a response template context "
        "holds only dicts, lists, text, numbers, booleans and None (format dates, pass fields not objects)"
    )


def plain_context(**parts: Any) -> dict[str, Any]:
    """A deep copy of ``parts`` made only of plain values, or TypeError naming the offending path.

    Allowed: dict (text keys), list/tuple (as list), str (subclasses such as TextChoices become plain str),
    int, float, bool, None, and Decimal (becomes fixed-point text, e.g. ``"1250.00"``). Anything else —
    a model instance, a date, a QuerySet, a lazy translation — is refused, so no object with methods or
    relations ever reaches a template.
    """
    return {name: _plain(value, name, 0) for name, value in parts.items()}


def example_context() -> dict[str, Any]:
    """A realistic context with every placeholder filled, for previews and trial renders."""
    return {
        "account": {
            "display_name": "Dana Whitfield",
            "first_name": "Dana",
            "email": "dana.whitfield@example.com",
            "tier": "VIP",
            "owner_name": "Sam Okafor",
            "venue": "International",
        },
        "specialist": {"name": "Sam Okafor", "first_name": "Sam", "email": "sam.okafor@example.com"},
        "case": {
            "reference": "DC-2025-0042",
            "category": "Market resolution",
            "status": "Decided",
            "claim": "The market resolved No although the official result was announced before the close.",
            "requested_remedy": "Resolve the market Yes and settle my position.",
            "amount_at_stake": "12500.00",
            "currency": "USD",
            "resolution_due": "14 March 2025, 17:00 UTC",
        },
        "market": {
            "question": "Will the central bank cut rates at its March 2025 meeting?",
            "url": "https://example.com/markets/rate-cut-march-2025",
            "resolved_outcome": "No",
            "end_date": "12 March 2025",
        },
        "decision": {
            "outcome": "Upheld",
            "rationale": "The rules settle on the announcement published on the bank's own site, which came after the close.",
            "remedy": "None — the resolution stands.",
        },
        "citations": [
            {
                "excerpt": "This market resolves according to the statement published on the official website.",
                "source": "Market rules, version of 1 March 2025",
            },
            {
                "excerpt": "Announcements after the market's end date are not considered.",
                "source": "Rulebook § 4.2 Resolution sources",
            },
        ],
        "check_in": {"next_due": "21 March 2025", "channel": "Intercom"},
        "escalation": {
            "level": "Tier 2",
            "reason": "Amount at stake above 10,000 USD",
            "deadline": "13 March 2025, 09:30 UTC",
        },
        "feedback": {"summary": "Show the resolution source on the market page.", "status": "Under review"},
    }


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def _template_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render(template, data: dict[str, Any]) -> str:
    too_large = f"The rendered text would be longer than {MAX_OUTPUT_CHARS:,} characters."
    token = _budget.set([FILTER_BUDGET_CHARS])
    pieces: list[str] = []
    size = 0
    try:
        for piece in template.generate(data):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise _TooLarge
            pieces.append(piece)
    except _TooLarge:
        raise TemplateProblem([too_large]) from None
    except UndefinedError as exc:
        message = f"Missing data: {exc.message}" if exc.message else "Missing data for a placeholder"
        raise TemplateProblem([_at_line(exc, message)]) from None
    except SecurityError as exc:
        raise TemplateProblem([_at_line(exc, f"Not allowed: {exc}")]) from None
    except (TemplateError, ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
        raise TemplateProblem([_at_line(exc, f"The template could not be rendered: {exc}")]) from None
    finally:
        _budget.reset(token)
    return "".join(pieces)


def _at_line(exc: BaseException, message: str) -> str:
    line = _template_line(exc)
    return f"Line {line}: {message}" if line else message


def render_template(source: str, context: dict[str, Any]) -> str:
    """Render a response template source over ``context`` and return plain (unescaped) text.

    The source is validated (cached) and the context is passed through :func:`plain_context`; every
    problem — an invalid template, missing data, output over :data:`MAX_OUTPUT_CHARS` — raises
    :class:`TemplateProblem` with readable messages. A context that isn't plain raises TypeError.
    Escape the result when you put it into HTML.
    """
    problems, template = _compiled(source)
    if template is None:
        raise TemplateProblem(problems)
    return _render(template, plain_context(**context))


def render_preview(source: str) -> str:
    """Render a source with :func:`example_context`, for a preview while editing."""
    return render_template(source, example_context())
