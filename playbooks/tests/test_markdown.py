"""playbooks.markdown: Markdown → sanitised HTML, heading anchors, TOC, and known XSS vectors.

Plain pytest, no database. The XSS checks parse the output with html.parser and inspect real
tags and attributes (a substring check would both miss things and flag escaped text)."""

import dataclasses
import re
import time
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.utils.safestring import SafeString

from playbooks.markdown import (
    LINK_REL,
    RenderedMarkdown,
    TocEntry,
    is_safe_url,
    render_markdown,
    sanitize_html,
    toc_html,
)

# The allowlist as the tests expect it, written out independently of the module so that widening
# the module's allowlist makes these tests fail until someone looks at it.
EXPECTED_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "em", "del", "s", "code"),
    *("pre", "blockquote", "ul", "ol", "li", "input", "label", "table", "thead", "tbody", "tr"),
    *("th", "td", "a", "div"),
}
EXPECTED_ATTRIBUTES = {
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "a": {"href", "title", "class", "aria-label", "rel"},
    "ul": {"class"},
    "ol": {"class", "start"},
    "li": {"class"},
    "input": {"class", "type", "checked", "disabled"},
    "div": {"class"},
    "th": {"class"},
    "td": {"class"},
    "code": {"class"},
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "srcset",
    "poster",
    "background",
}
DANGEROUS_SCHEME = re.compile(r"^(javascript|vbscript|data|file|livescript):")


class Elements(HTMLParser):
    """Every start tag with its (entity-decoded) attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return [(tag, dict(attrs)) for tag, attrs in parser.elements]


def compact_url(value: str) -> str:
    """What a browser would see as the scheme: decoded, without ignored characters, lower-case."""
    for _ in range(3):
        value = unquote(value)
    return re.sub(r"[\x00-\x20\x7f-\x9f]", "", value).lower()


def assert_safe(html: str) -> None:
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag in EXPECTED_TAGS, f"tag <{tag}> not in the allowlist: {html}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>: {html}"
            assert name in EXPECTED_ATTRIBUTES.get(tag, set()), f"{tag}@{name} not allowed: {html}"
            if name in URL_ATTRIBUTES:
                assert not DANGEROUS_SCHEME.match(compact_url(value or "")), f"{tag}@{name}={value!r}"
        if tag == "input":
            assert attrs.get("type") == "checkbox" and "disabled" in attrs
        if tag == "a" and "href" in attrs:
            assert attrs.get("rel") == LINK_REL


def render(text: str) -> str:
    return str(render_markdown(text).html)


# -- rendering -------------------------------------------------------------------------------


def test_result_type_is_frozen_with_safe_html():
    result = render_markdown("# Title\n\nBody")
    assert isinstance(result, RenderedMarkdown)
    assert isinstance(result.html, SafeString)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.html = SafeString("")  # type: ignore[misc]


def test_empty_input():
    result = render_markdown("")
    assert result.html == ""
    assert result.toc == []


def test_headings_get_ids_anchor_links_and_toc():
    result = render_markdown(
        "# Playbook\n\n## Escalation steps\n\ntext\n\n### When to `refund`\n\n#### Edge *cases*\n\n##### Deep\n"
    )
    found = elements(result.html)
    ids = [attrs["id"] for tag, attrs in found if tag in {"h1", "h2", "h3", "h4", "h5"}]
    assert ids == ["playbook", "escalation-steps", "when-to-refund", "edge-cases", "deep"]
    assert '<h2 id="escalation-steps">Escalation steps</h2>' in result.html
    assert result.toc == [
        TocEntry(level=1, text="Playbook", anchor="playbook"),
        TocEntry(level=2, text="Escalation steps", anchor="escalation-steps"),
        TocEntry(level=3, text="When to refund", anchor="when-to-refund"),
        TocEntry(level=4, text="Edge cases", anchor="edge-cases"),
    ]  # h5 gets an id and an anchor, but is not in the TOC


def test_heading_anchor_link_is_accessible():
    html = render("## Escalation steps")
    anchors = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert anchors == [
        {
            "class": "anchor",
            "href": "#escalation-steps",
            "aria-label": "Link to section: Escalation steps",
            "rel": LINK_REL,
        }
    ]
    # The link sits after the heading (so the heading's name is just its text), in a wrapper.
    assert html.startswith('<div class="heading"><h2 id="escalation-steps">Escalation steps</h2><a ')
    assert html.rstrip().endswith(">#</a></div>")


def test_duplicate_headings_get_unique_ids():
    result = render_markdown("## Setup\n\n## Setup\n\n## Setup 2\n\n## Setup\n\n## Setup 3")
    assert [entry.anchor for entry in result.toc] == ["setup", "setup-2", "setup-2-2", "setup-3", "setup-3-2"]
    ids = [attrs["id"] for tag, attrs in elements(result.html) if tag == "h2"]
    assert len(set(ids)) == len(ids) == 5


def test_heading_slugs_are_stable_for_punctuation_unicode_and_empty_text():
    result = render_markdown("## C++ & Python: a *guide*!\n\n## Привет мир\n\n## !!!\n\n## `code`\n\n##\n")
    assert [entry.anchor for entry in result.toc] == ["c-python-a-guide", "привет-мир", "section", "code"]
    assert 'id="section-2"' in result.html  # the empty heading still gets an id, not a TOC entry
    assert render_markdown("## C++ & Python: a *guide*!").toc == result.toc[:1]  # stable


def test_headings_with_html_are_escaped_in_heading_and_toc():
    result = render_markdown("## Use <b>bold</b> & co")
    assert result.toc == [TocEntry(level=2, text="Use <b>bold</b> & co", anchor="use-bboldb-co")]
    assert "Use &lt;b&gt;bold&lt;/b&gt; &amp; co</h2>" in result.html
    assert toc_html(result.toc) == (
        '<ul class="toc"><li><a href="#use-bboldb-co">Use &lt;b&gt;bold&lt;/b&gt; &amp; co</a></li></ul>'
    )


def test_toc_html_nests_by_level():
    toc = render_markdown("# T\n\n## A\n\n### A1\n\n#### A1x\n\n### A2\n\n## B\n\n#### B-deep\n\n### B1").toc
    assert toc_html(toc) == (
        '<ul class="toc"><li><a href="#t">T</a><ul>'
        '<li><a href="#a">A</a><ul><li><a href="#a1">A1</a><ul><li><a href="#a1x">A1x</a></li></ul></li>'
        '<li><a href="#a2">A2</a></li></ul></li>'
        '<li><a href="#b">B</a><ul><li><a href="#b-deep">B-deep</a></li><li><a href="#b1">B1</a></li></ul></li>'
        "</ul></li></ul>"
    )
    assert toc_html(toc, max_level=2) == (
        '<ul class="toc"><li><a href="#t">T</a><ul><li><a href="#a">A</a></li><li><a href="#b">B</a></li></ul></li></ul>'
    )
    assert toc_html([]) == ""
    assert isinstance(toc_html(toc), SafeString)


def test_task_lists_render_disabled_checkboxes():
    html = render("- [ ] check the wallet\n- [x] reply to the customer\n- plain item")
    inputs = [attrs for tag, attrs in elements(html) if tag == "input"]
    assert len(inputs) == 2
    assert all(attrs["type"] == "checkbox" and "disabled" in attrs for attrs in inputs)
    assert "checked" not in inputs[0]
    assert "checked" in inputs[1]
    assert '<ul class="contains-task-list">' in html
    assert html.count('<li class="task-list-item"><label><input') == 2
    assert "<li>plain item</li>" in html
    assert "[ ]" not in html and "[x]" not in html


def test_tables_render_with_alignment_classes_and_no_style():
    html = render("| Step | Owner | Notes |\n|:--|:-:|--:|\n| 1 | *lead* | `x<y` |")
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert '<th class="align-left">Step</th>' in html
    assert '<th class="align-center">Owner</th>' in html
    assert '<td class="align-right"><code>x&lt;y</code></td>' in html
    assert "style" not in html


def test_code_blocks_escape_content_and_keep_a_safe_language_class():
    html = render('```python\nif a < b and "<script>alert(1)</script>":\n    pass\n```')
    assert '<pre><code class="language-python">' in html
    assert 'if a &lt; b and "&lt;script&gt;alert(1)&lt;/script&gt;":' in html
    html = render('```js" onmouseover="alert(1)\nx\n```\n\n    <b>indented</b>\n\nInline `<i>x</i>`')
    assert "<pre><code>x\n</code></pre>" in html  # the unsafe info string is dropped, not escaped
    assert "<pre><code>&lt;b&gt;indented&lt;/b&gt;\n</code></pre>" in html
    assert "<code>&lt;i&gt;x&lt;/i&gt;</code>" in html
    assert_safe(html)


def test_links_keep_href_and_title_and_get_rel():
    html = render(
        '[docs](https://help.example.com/a?b=1&c=2 "The docs") [mail](mailto:ops@example.com) '
        "[below](#escalation-steps) [other](/playbooks/7/) [up](../x) <https://example.com/auto>"
    )
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert [attrs["href"] for attrs in links] == [
        "https://help.example.com/a?b=1&c=2",
        "mailto:ops@example.com",
        "#escalation-steps",
        "/playbooks/7/",
        "../x",
        "https://example.com/auto",
    ]
    assert all(attrs["rel"] == "noopener noreferrer nofollow" for attrs in links)
    assert links[0]["title"] == "The docs"
    assert "target" not in html


def test_images_render_as_links_not_img():
    html = render(
        '![screenshot](https://files.example.com/s.png "Shot") and [![inner](https://x/i.png) t](https://y/)'
    )
    assert "<img" not in html
    assert (
        '<a href="https://files.example.com/s.png" title="Shot" rel="noopener noreferrer nofollow">screenshot</a>'
        in html
    )
    assert '<a href="https://y/" rel="noopener noreferrer nofollow">inner t</a>' in html  # no nested <a>


def test_raw_html_is_escaped_not_passed_through():
    html = render('<div class="x">hi</div>\n\nInline <b>bold</b> <!-- note -->')
    assert '&lt;div class="x"&gt;hi&lt;/div&gt;' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;!-- note --&gt;" in html


def test_commonmark_basics_and_strikethrough():
    html = render("**b** *i* ~~gone~~\n\n> quote\n\n3. three\n4. four\n\n---\n\nline  \nbreak")
    for fragment in (
        "<strong>b</strong>",
        "<em>i</em>",
        "<s>gone</s>",
        "<blockquote>",
        '<ol start="3">',
        "<hr>",
        "<br>",
    ):
        assert fragment in html
    assert_safe(html)


def test_deeply_nested_lists_keep_the_rest_of_the_document():
    nested = "".join(f"{'  ' * depth}- level {depth}\n" for depth in range(15))
    html = render(nested + "\nAfter the list.\n\n## Next")
    assert "level 14" in html
    assert "<p>After the list.</p>" in html
    assert 'id="next"' in html


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/a:b", True),
        ("http://example.com", True),
        ("mailto:ops@example.com", True),
        ("#section", True),
        ("/relative/path?q=a:b", True),
        ("../up", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" \tjavascript:alert(1)", False),
        ("java%09script:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("\x01javascript:alert(1)", False),
        ("vbscript:msgbox(1)", False),
        ("data:text/html,<script>", False),
        ("file:///etc/passwd", False),
        ("tel:+123", False),
        ("foo:bar", False),
    ],
)
def test_is_safe_url(url, safe):
    assert is_safe_url(url) is safe


def test_200_kb_document_renders_quickly():
    section = (
        "## Step {n}: check the wallet\n\n"
        "Ask the customer for the **transaction hash** and check it on [the explorer](https://example.com/tx). "
        "Use `lookup_tx` if the network is *busy*.\n\n"
        "- [ ] confirm the amount\n- [x] confirm the address\n\n"
        "| Field | Value |\n|:--|--:|\n| fee | 0.1 |\n\n```\nlookup_tx(hash)\n```\n\n"
    )
    text = "".join(section.format(n=n) for n in range(800))[: 200 * 1024]
    # CPU time, not wall time: a runner busy with other jobs does not count against the budget.
    started = time.process_time()
    result = render_markdown(text)
    elapsed = time.process_time() - started
    assert len(result.toc) >= 500
    assert elapsed < 3, f"200 KB took {elapsed:.2f}s"  # ~0.15 s measured; generous for slow CI


# -- XSS vectors ------------------------------------------------------------------------------

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#39;&#41;>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x](java%0ascript:alert(1))",
    "[x](\x01javascript:alert(1))",
    "[x](java\x00script:alert(1))",
    "[x](javascript://%0aalert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](  javascript:alert(1) 'title')",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    '[x][ok]\n\n[ok]: https://ok.example "a" onmouseover="alert(1)"',
    '[x](https://ok.example "\\" onmouseover=\\"alert(1)")',
    "[x](https://ok.example' onmouseover='alert(1))",
    '[x](https://ok.example "<script>alert(1)</script>")',
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '![x](https://ok.example/x.png" onerror="alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<div style="width: expression(alert(1))">x</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">x</math>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<form action="javascript:alert(1)"><input type=submit formaction="javascript:alert(2)"></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input onfocus=alert(1) autofocus>",
    "<video><source onerror=alert(1)></video>",
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "<!--<img src=x onerror=alert(1)>-->",
    "| a |\n|---|\n| <td onmouseover=alert(1)>x |",
    "| a |\n|---|\n| [x](javascript:alert(1)) |",
    "# <script>alert(1)</script>",
    "## x onmouseover=alert(1) <img src=x onerror=alert(1)>",
    '```js" onmouseover="alert(1)\nx\n```',
    "`<script>alert(1)</script>`",
    "- [x] <img src=x onerror=alert(1)>",
    "> <iframe srcdoc='<script>alert(1)</script>'>",
    "\\<script\\>alert(1)\\</script\\>",
    "[x](//evil.example/%0a%0djavascript:alert(1)) *<a href=javascript:alert(1)>x</a>*",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_are_neutralised(vector):
    html = render(vector)
    assert_safe(html)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_are_neutralised_by_the_sanitiser_alone(vector):
    """Defence in depth: the nh3 layer on its own also stops the vectors given as raw HTML."""
    assert_safe(sanitize_html(vector))


def test_javascript_links_stay_visible_as_text():
    html = render("[click](javascript:alert(1))")
    assert "<a" not in html
    assert "[click](javascript:alert(1))" in html  # shown literally, not as a link


def test_sanitiser_enforces_value_allowlists():
    assert sanitize_html('<input type="text" value="x">') == '<input type="checkbox" disabled="disabled">'
    assert sanitize_html('<a class="anchor evil" href="/x" rel="opener" target="_blank">x</a>') == (
        '<a class="anchor" href="/x" rel="noopener noreferrer nofollow">x</a>'
    )
    assert sanitize_html('<h2 id="a b" class="x">t</h2><code class="language-py x">y</code>') == (
        "<h2>t</h2><code>y</code>"
    )
    assert sanitize_html('<ol start="1; x"><li class="task-list-item x">a</li></ol>') == (
        '<ol><li class="task-list-item">a</li></ol>'
    )
