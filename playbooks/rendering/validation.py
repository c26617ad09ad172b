"""The check run on a template source before it is saved or first rendered: an allowlist walk.

The source is parsed and its syntax tree walked against an allowlist: only the documented placeholders
in :data:`~playbooks.rendering.schema.PLACEHOLDERS` (plus ``citation``/``loop`` inside
``{% for … in citations %}``) may be read, only the allowed filters and tests may be used, and nothing
may be called. Statements other than ``{% if %}`` and ``{% for %}`` (``include``, ``import``,
``extends``, ``macro``, ``set``, …), arithmetic, nested loops and underscore names are refused. Every
problem becomes a readable message such as
``"Line 2: Unknown placeholder account.password (account has: display_name, …)."``.
"""

from __future__ import annotations

from collections.abc import Iterable

from jinja2 import TemplateSyntaxError, nodes

from playbooks.rendering.filters import FILTER_RULES, PRESENCE_TESTS, TESTS, FilterRule
from playbooks.rendering.sandbox import ENV
from playbooks.rendering.schema import LIST_PLACEHOLDERS, LOOP_ATTRIBUTES, MAX_SOURCE_CHARS, PLACEHOLDERS

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
        rule = FILTER_RULES.get(node.name)
        if rule is None:
            self.problem(node, f"Unknown filter {node.name!r} (available: {', '.join(FILTER_RULES)})")
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
        rule: FilterRule,
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
        if node.name not in TESTS:
            self.problem(node, f"Unknown test {node.name!r} (available: {', '.join(TESTS)})")
            return None
        if node.args or node.kwargs or node.dyn_args is not None or node.dyn_kwargs is not None:
            self.problem(node, f"the {node.name!r} test takes no arguments")
        if node.name in PRESENCE_TESTS:
            self.condition(node.node, scope)
        else:
            self.value(node.node, scope)
        return _LEAF


def parse(source: str) -> tuple[list[str], nodes.Template | None]:
    """Parse and check a source: (problems, syntax tree)."""
    if not isinstance(source, str):
        return ["The template must be text."], None
    if len(source) > MAX_SOURCE_CHARS:
        return [f"The template is too long ({len(source):,} characters; at most {MAX_SOURCE_CHARS:,})."], None
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"Line {exc.lineno}: {exc.message}" if exc.lineno else str(exc.message)], None
    validator = _Validator()
    validator.statements(tree.body, {})
    return validator.problems, tree


def placeholder_roots(source: str) -> frozenset[str]:
    """The placeholder groups a source reads (``{"account", "case"}``), for a preview that must
    know which parts of its context a template needs. A loop variable named like a group does not
    count as reading it; a source that does not parse reads nothing (rendering it reports why)."""
    _problems, tree = parse(source)
    if tree is None:
        return frozenset()
    loaded = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
    loop_names: set[str] = set()
    for loop in tree.find_all(nodes.For):
        targets = [loop.target, *loop.target.find_all(nodes.Name)]
        loop_names |= {target.name for target in targets if isinstance(target, nodes.Name)}
    return frozenset(name for name in loaded - loop_names if name in PLACEHOLDERS)
