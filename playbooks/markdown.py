"""Playbook Markdown → safe HTML, with heading anchors and a table of contents.

Pipeline
--------
1. markdown-it-py, CommonMark preset with ``html`` input **disabled**: raw HTML written in the
   Markdown (``<script>``, ``<img onerror>``, ``<iframe>`` …) is escaped as text, never passed
   through. Enabled on top of CommonMark: GFM tables, strikethrough and task lists
   (mdit-py-plugins ``tasklists_plugin``, checkboxes rendered *disabled*). Linkify stays off
   (linkify-it-py is not installed); ``<https://…>`` autolinks still work.
   Link and image destinations are checked by :func:`is_safe_url` at parse time, so
   ``[x](javascript:…)`` stays literal text instead of becoming a link.
2. Our own core rules: every heading gets a stable, document-unique slug id (GitHub style:
   ``"Escalation steps"`` → ``escalation-steps``, duplicates get ``-2``, ``-3`` …), h1–h4 feed the
   table of contents, table-cell alignment becomes a class instead of a ``style`` attribute, and
   fenced-code languages are reduced to a plain ``language-xyz`` class (or dropped).
3. nh3 (ammonia) sanitises the output as defence in depth, with the explicit allowlist below
   (nh3's defaults would strip heading ids and task-list checkboxes, and allow more than we need).
   An ``attribute_filter`` restricts every attribute *value*: ``class`` only to the values this
   module produces, ``id`` only to slugs, ``href`` only to safe URLs, ``<input>`` only to a
   disabled checkbox.

Allowlist (and why)
-------------------
* Tags: ``h1``–``h6 p br hr strong em del s code pre blockquote ul ol li table thead tbody tr th
  td a input label div`` — exactly what the renderer emits for CommonMark + tables + strikethrough
  + task lists + heading anchors. ``div`` only as the ``class="heading"`` wrapper of a heading and
  its anchor link; ``label`` (no attributes) wraps a task item so its checkbox has an accessible
  name.
* **No images.** Playbooks are text procedures; ``<img>`` would let a document load third-party
  URLs for every reader (tracking pixels, leaking reader IPs) and accept ``data:`` payloads, and
  screenshots belong in attachments. ``![alt](https://…)`` therefore renders as a plain link
  ``<a href="https://…">alt</a>`` (just the alt text when inside another link or when the URL is
  not safe), so no content is lost.
* No ``style`` attribute anywhere (CSS ``expression()``/``url()`` vectors, layout spoofing):
  markdown-it's ``style="text-align:…"`` on table cells becomes ``class="align-left|center|right"``.
* No ``span``, ``img``, ``iframe``, ``svg``, ``math``, ``form``, ``object`` … and no event handlers
  or ``data-*``/generic attributes. ``script``, ``style`` and the other "raw text"/embedding tags
  are removed *with their content*. HTML comments are stripped.
* Attributes: ``id`` on headings (slug pattern only); ``class`` on ``ul ol li input a div th td
  code`` limited to the values we produce; ``a``: ``href`` (``http``, ``https``, ``mailto``,
  relative and ``#fragment`` URLs only), ``title``, ``aria-label``, and ``rel`` forced to
  ``noopener noreferrer nofollow``; ``ol``: ``start`` (digits); ``input``: ``type``/``checked``/
  ``disabled``, with ``type="checkbox"`` and ``disabled`` forced on every input.

Accessibility of heading anchors: the permalink is a separate link *after* the heading, inside a
``<div class="heading">`` wrapper: ``<h2 id="setup">Setup</h2><a class="anchor" href="#setup"
aria-label="Link to section: Setup">#</a>``. The heading's accessible name stays just its text
(no "#" noise in a screen reader's heading list) and the link is reachable by keyboard with a
meaningful name. Styling hooks (not defined here): ``.heading``, ``.anchor``, ``.align-*``,
``.contains-task-list``, ``.task-list-item``, ``.toc``.

Heading ids are not prefixed, so authors can link ``[see below](#escalation-steps)`` as on
GitHub; a heading may therefore repeat an id of the surrounding page (e.g. ``main``).

Performance (``python bench/run.py markdown``, dev machine, Python 3.11; everything is linear):

* realistic 200 KB playbook (249 headings, paragraphs with emphasis/links/code, lists, task lists,
  tables, fenced code): **~110 ms median** (p90 ~145 ms) — ~97 ms markdown-it, ~12 ms nh3;
  a 20 KB playbook: ~10 ms.
* heavy but legitimate 200 KB shapes: one huge paragraph ~40 ms, 5,000 identical headings
  ~245 ms, 25,000 links in one paragraph ~1.0 s, one 20,000-row table ~1.1 s.
* adversarial 200 KB input (markdown-it-py's pure-Python inline parser has a high constant):
  200,000 unclosed ``[`` ~2.7 s, 51,000 unclosed ``[a](`` ~1.35 s, unclosed ``*a _a`` ~0.7 s.
  Authors are authenticated staff, but render once per saved version and cache the HTML rather
  than on every page view.

Callers cap input at 200 KB; this module does not truncate. Nesting: markdown-it's ``maxNesting``
is raised from CommonMark's 20 to 40 (about 20 nested list levels), because past the limit
markdown-it silently drops the rest of the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import nh3
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.tasklists import tasklists_plugin

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "ALLOWED_URL_SCHEMES",
    "LINK_REL",
    "TOC_LEVELS",
    "RenderedMarkdown",
    "TocEntry",
    "is_safe_url",
    "render_markdown",
    "sanitize_html",
    "toc_html",
]

_MAX_NESTING = 40  # token nesting depth; each list level takes two
TOC_LEVELS = range(1, 5)  # h1–h4 go into the table of contents
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

ALLOWED_TAGS = frozenset(
    {
        *(f"h{level}" for level in range(1, 7)),
        *("p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote"),
        *("ul", "ol", "li", "input", "label"),
        *("table", "thead", "tbody", "tr", "th", "td"),
        *("a", "div"),
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "a": {"href", "title", "class", "aria-label"},
    "ul": {"class"},
    "ol": {"class", "start"},
    "li": {"class"},
    "input": {"class", "type", "checked", "disabled"},
    "div": {"class"},
    "th": {"class"},
    "td": {"class"},
    "code": {"class"},
}
# Removed together with everything inside them (none of them is allowed anyway).
_CLEAN_CONTENT_TAGS = frozenset(
    {
        *("script", "style", "template", "noscript", "iframe", "frame", "frameset", "object"),
        *("embed", "applet", "svg", "math", "textarea", "select", "title", "xmp", "noembed"),
        *("noframes", "plaintext"),
    }
)
_ALLOWED_CLASSES: dict[str, frozenset[str]] = {
    "a": frozenset({"anchor"}),
    "ul": frozenset({"contains-task-list"}),
    "ol": frozenset({"contains-task-list"}),
    "li": frozenset({"task-list-item"}),
    "input": frozenset({"task-list-item-checkbox"}),
    "div": frozenset({"heading"}),
    "th": frozenset({"align-left", "align-center", "align-right"}),
    "td": frozenset({"align-left", "align-center", "align-right"}),
}
_LANGUAGE_RE = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")
_LANGUAGE_CLASS_RE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_SLUG_RE = re.compile(r"[\w-]{1,200}")
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.-]*):")
# Browsers ignore ASCII tab/newline anywhere in a URL and C0 controls/space around it.
_URL_IGNORED_RE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_ALIGN_STYLE_RE = re.compile(r"text-align:(left|center|right)")


@dataclass(frozen=True, slots=True)
class TocEntry:
    level: int  # 1–4
    text: str  # plain text, not escaped
    anchor: str  # the heading's id, without "#"


@dataclass(frozen=True, slots=True)
class RenderedMarkdown:
    html: SafeString
    toc: list[TocEntry] = field(default_factory=list)


def is_safe_url(url: str) -> bool:
    """True for http(s)/mailto URLs and relative/fragment URLs; False for any other scheme.

    Conservative on purpose: the URL is percent-decoded once and stripped of the whitespace and
    control characters browsers ignore, so ``java%09script:`` or ``\\x01javascript:`` count as the
    ``javascript`` scheme; a relative URL with a ``:`` in its first path segment is refused too.
    """
    compact = _URL_IGNORED_RE.sub("", unquote(url)).lower()
    match = _SCHEME_RE.match(compact)
    if match:
        return match.group(1) in ALLOWED_URL_SCHEMES
    first_segment = re.split(r"[/?#\\]", compact, maxsplit=1)[0]
    return ":" not in first_segment


# -- markdown-it: parser and rules -------------------------------------------------------------


def _plain_text(inline: Token) -> str:
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(_plain_text(child))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _unique_slug(text: str, used: set[str], last_suffix: dict[str, int]) -> str:
    """``setup``, then ``setup-2``, ``setup-3`` …; skips ids taken by other headings ("Setup 2")."""
    base = slugify(text, allow_unicode=True)[:80].strip("-_") or "section"
    slug, n = base, last_suffix.get(base, 1)
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    last_suffix[base] = n  # 5,000 identical headings stay linear
    used.add(slug)
    return slug


def _headings_rule(state: StateCore) -> None:
    """Give headings unique slug ids and collect the table of contents into ``env``."""
    used: set[str] = set()
    last_suffix: dict[str, int] = {}
    toc: list[TocEntry] = []
    tokens = state.tokens
    for idx, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = _plain_text(tokens[idx + 1])
        slug = _unique_slug(text, used, last_suffix)
        token.attrSet("id", slug)
        # heading_close is always idx + 2 (heading_open, inline, heading_close)
        tokens[idx + 2].meta = {"anchor": slug, "text": text}
        level = int(token.tag[1])
        if level in TOC_LEVELS and text:
            toc.append(TocEntry(level=level, text=text, anchor=slug))
    state.env["toc"] = toc


def _cleanup_rule(state: StateCore) -> None:
    """Table alignment as a class, not ``style``; fence info reduced to a safe language; images in links."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style")
            if style is not None:
                del token.attrs["style"]
                match = _ALIGN_STYLE_RE.fullmatch(str(style))
                if match:
                    token.attrSet("class", f"align-{match.group(1)}")
        elif token.type == "fence" and token.info:
            language = token.info.split(maxsplit=1)[0] if token.info.split() else ""
            token.info = language if _LANGUAGE_RE.fullmatch(language) else ""
        elif token.type == "inline" and token.children:
            depth = 0  # mark images inside links: they must not render a nested <a>
            for child in token.children:
                if child.type == "link_open":
                    depth += 1
                elif child.type == "link_close":
                    depth -= 1
                elif child.type == "image":
                    child.meta["in_link"] = depth > 0


def _render_heading_open(self, tokens, idx, options, env) -> str:
    return '<div class="heading">' + self.renderToken(tokens, idx, options, env)


def _render_heading_close(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    anchor = escapeHtml(token.meta["anchor"])
    title = token.meta["text"] or token.meta["anchor"]
    label = escapeHtml(gettext("Link to section: %(title)s") % {"title": title})
    return f'</{token.tag}><a class="anchor" href="#{anchor}" aria-label="{label}">#</a></div>\n'


def _render_image(self, tokens, idx, options, env) -> str:
    """Images are not allowed: render ``![alt](url "title")`` as a link to the URL instead."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children, options, env)
    src = str(token.attrGet("src") or "")
    if token.meta.get("in_link") or not src or not is_safe_url(src):
        return escapeHtml(alt)
    title = token.attrGet("title")
    title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
    return f'<a href="{escapeHtml(src)}"{title_attr}>{escapeHtml(alt or src)}</a>'


def _build_parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark", {"html": False, "linkify": False, "typographer": False, "maxNesting": _MAX_NESTING}
    )
    md.enable(["table", "strikethrough"])
    md.use(tasklists_plugin, enabled=False, label=True)
    md.validateLink = is_safe_url  # stricter than markdown-it's blocklist (javascript/vbscript/file/data)
    md.core.ruler.push("playbook_headings", _headings_rule)
    md.core.ruler.push("playbook_cleanup", _cleanup_rule)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("heading_close", _render_heading_close)
    md.add_render_rule("image", _render_image)
    return md


# -- nh3: the sanitiser ------------------------------------------------------------------------


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Value-level allowlist on top of nh3's tag/attribute allowlist (None drops the attribute)."""
    if attribute == "class":
        if tag == "code":
            return value if _LANGUAGE_CLASS_RE.fullmatch(value) else None
        allowed = _ALLOWED_CLASSES.get(tag, frozenset())
        kept = [name for name in value.split() if name in allowed]
        return " ".join(kept) or None
    if attribute == "id":
        return value if _SLUG_RE.fullmatch(value) else None
    if attribute == "href":
        return value if is_safe_url(value) else None
    if attribute == "rel":
        return LINK_REL
    if tag == "input":
        if attribute == "type":
            return "checkbox"
        return attribute  # checked="checked" / disabled="disabled"
    if attribute == "start":
        return value if value.isascii() and value.isdigit() and len(value) <= 9 else None
    return value  # a@title, a@aria-label: plain text, re-escaped by the serialiser


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_CLEAN_CONTENT_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    strip_comments=True,
    link_rel=LINK_REL,
    generic_attribute_prefixes=set(),
    set_tag_attribute_values={"input": {"type": "checkbox", "disabled": "disabled"}},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    url_relative="pass_through",
)
_PARSER = _build_parser()


def sanitize_html(html: str) -> str:
    """Run HTML through the playbook allowlist (exposed for tests and other renderers)."""
    return _CLEANER.clean(html)


def render_markdown(text: str) -> RenderedMarkdown:
    """Render playbook Markdown to sanitised HTML plus its table of contents (h1–h4)."""
    env: dict = {}
    raw = _PARSER.render(text or "", env)
    return RenderedMarkdown(html=mark_safe(sanitize_html(raw)), toc=list(env.get("toc", [])))  # noqa: S308


def toc_html(toc: list[TocEntry], *, max_level: int = 4) -> SafeString:
    """A nested ``<ul class="toc">`` of links to the headings (deeper levels nest; gaps are fine).

    Everything is escaped here; wrap it in ``<nav aria-label="Contents">`` in the template.
    """
    entries = [entry for entry in toc if entry.level <= max_level]
    if not entries:
        return SafeString("")
    out: list[str] = []
    stack: list[int] = []  # levels of the open <ul>s
    for entry in entries:
        if not stack:
            out.append('<ul class="toc">')
            stack.append(entry.level)
        elif entry.level > stack[-1]:
            out.append("<ul>")
            stack.append(entry.level)
        else:
            while len(stack) > 1 and entry.level <= stack[-2]:
                out.append("</li></ul>")
                stack.pop()
            out.append("</li>")
            stack[-1] = entry.level
        out.append(format_html('<li><a href="#{}">{}</a>', entry.anchor, entry.text))
    out.append("</li></ul>" * len(stack))
    return mark_safe("".join(out))  # noqa: S308 - every piece above went through format_html


def rendered_revision(playbook) -> RenderedMarkdown:
    """The playbook's current text as HTML, rendered once per distinct text (keyed by its
    digest) and kept in the cache: a large document takes ~100 ms to render."""
    import hashlib

    from django.core.cache import cache

    digest = hashlib.blake2b(playbook.current_body.encode(), digest_size=16).hexdigest()
    key = f"playbook-html:v1:{digest}"
    cached = cache.get(key)
    if cached is None:
        cached = render_markdown(playbook.current_body)
        cache.set(key, cached, timeout=24 * 3600)
    return cached
