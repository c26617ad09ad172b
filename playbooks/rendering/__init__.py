"""The strict, sandboxed renderer for response templates (subject and body written by specialists).

A response template is Jinja2 source such as ``Hi {{ account.first_name }}, about {{ case.reference }}…``.
It is rendered by :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` with ``StrictUndefined`` over a
context of plain values (dicts, lists, strings, numbers, booleans, ``None``), never over model
instances — so a template can't follow a relation, call a method, load a file or run code.

Three layers keep it that way:

1. :func:`validate_template` (run when a template is saved, and again before every first render of a
   source) walks the source's syntax tree against an allowlist (:mod:`.validation`) built from the
   documented placeholders (:mod:`.schema`) and the allowed filters and tests (:mod:`.filters`). The
   template is then tried once against :func:`example_context`, so a filter used on the wrong kind of
   value is caught when saving too.
2. The environment itself (:mod:`.sandbox`) has no loader, no globals, only the allowed filters, and
   refuses arithmetic, every call and every real Python attribute.
3. Rendering has budgets: sources are at most :data:`MAX_SOURCE_CHARS` characters, output at most
   :data:`MAX_OUTPUT_CHARS` characters, and the filters that could blow a value up (``join``, ``replace``)
   check the size of their result before building it.

Autoescaping is OFF: the output is plain text for Intercom and e-mail. Callers that show a rendered
template in HTML (a preview, say) must escape it there — Django's ``{{ }}`` does, ``|safe`` must never
be used on it.

A missing value is an error, not a silent blank: rendering with a context that lacks a placeholder the
template uses raises :class:`TemplateProblem`, unless the template says what to do with
``{{ x|default("…") }}`` or ``{% if x is defined %}``. ``None`` values render as an empty string.

The entry points and the compiled-template cache they share are in :mod:`.render`. This package
re-exports the public names so other apps can keep importing them from ``playbooks.rendering``.
"""

from playbooks.rendering.filters import ALLOWED_FILTERS, ALLOWED_TESTS
from playbooks.rendering.render import render_preview, render_template, validate_template
from playbooks.rendering.sandbox import TemplateProblem, plain_context
from playbooks.rendering.schema import (
    LIST_PLACEHOLDERS,
    LOOP_ATTRIBUTES,
    MAX_OUTPUT_CHARS,
    MAX_SOURCE_CHARS,
    PLACEHOLDERS,
    ROOT_DESCRIPTIONS,
    example_context,
    placeholder_help,
)
from playbooks.rendering.validation import placeholder_roots

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
