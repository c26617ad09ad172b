"""The sandbox a response template runs in, the plain context it runs over, and one render.

The environment has no loader, no globals (no ``range``, ``lipsum``, ``cycler``, ``namespace``…), only
the allowed filters, refuses arithmetic operators, refuses every call and every real Python attribute
(dict keys are the only things a template can read; ``loop.index`` and friends are the one exception).
The context is made of plain values only (:func:`plain_context`), never model instances, so a template
can't follow a relation or call a method even if a check upstream missed something.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from playbooks.rendering.filters import FILTER_RULES, TESTS, TooLarge, filter_budget
from playbooks.rendering.schema import (
    FILTER_BUDGET_CHARS,
    LOOP_ATTRIBUTES,
    MAX_CONTEXT_DEPTH,
    MAX_LIST_ITEMS,
    MAX_OUTPUT_CHARS,
)


class TemplateProblem(ValueError):
    """A template that can't be saved or rendered; ``messages`` are readable as they are."""

    def __init__(self, messages: Iterable[str]):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


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
    env.filters = {name: rule.func for name, rule in FILTER_RULES.items()}
    env.tests = dict(TESTS)
    return env


ENV = _make_environment()


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
    if depth >= MAX_CONTEXT_DEPTH:
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


def _template_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_compiled(template, data: dict[str, Any]) -> str:
    """Render a compiled template over plain ``data`` within the output and filter budgets; every
    failure becomes a :class:`TemplateProblem` naming the template line where it can."""
    too_large = f"The rendered text would be longer than {MAX_OUTPUT_CHARS:,} characters."
    token = filter_budget.set([FILTER_BUDGET_CHARS])
    pieces: list[str] = []
    size = 0
    try:
        for piece in template.generate(data):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TooLarge
            pieces.append(piece)
    except TooLarge:
        raise TemplateProblem([too_large]) from None
    except UndefinedError as exc:
        message = f"Missing data: {exc.message}" if exc.message else "Missing data for a placeholder"
        raise TemplateProblem([_at_line(exc, message)]) from None
    except SecurityError as exc:
        raise TemplateProblem([_at_line(exc, f"Not allowed: {exc}")]) from None
    except (TemplateError, ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
        raise TemplateProblem([_at_line(exc, f"The template could not be rendered: {exc}")]) from None
    finally:
        filter_budget.reset(token)
    return "".join(pieces)


def _at_line(exc: BaseException, message: str) -> str:
    line = _template_line(exc)
    return f"Line {line}: {message}" if line else message
