"""Every page each role reaches from the navigation, and one record of each kind linked from
those pages, at a laptop's and a phone's width: accessible (axe-core), no sideways scrolling of
the page, the header on one line on a laptop; a screenshot of each for people to look at."""

import re
from urllib.parse import urlsplit

import pytest

from portal.tests.browser import LAPTOP, PHONE, check_page, sign_in

PASSWORD = "correct horse battery staple"
# Product sees no user's e-mail or wallet anywhere (DESIGN.md's roles).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
WALLET = re.compile(r"0x[0-9a-fA-F]{40}")


# Links that download a file rather than open a page, and Django's own admin.
NOT_PAGES = re.compile(r"csv|json|export|download|/evidence/\d+|^/admin/|^/logout")
MAX_PAGES = 60


def shape(parent_shape: str, parent: str, path: str) -> str:
    """`path`, found on `parent`, with the record it names generalised: a segment holding a
    digit or a hyphen (an id, a reference, a slug) is any record; words (new, history) stay."""
    segments = path[len(parent) :].strip("/").split("/")
    general = ["*" if re.search(r"[\d-]", segment) else segment for segment in segments]
    return parent_shape.rstrip("/") + "/" + "/".join(general) + "/"


def links_below(page, path: str) -> list[str]:
    """The paths the open page links to in its content, below `path` itself (none below My day,
    whose links are the other pages' records)."""
    if path == "/":
        return []
    hrefs = page.eval_on_selector_all("main a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
    paths = (urlsplit(href).path for href in hrefs)
    return [p for p in paths if p.startswith(path) and p != path and not NOT_PAGES.search(p)]


def header_rows(page) -> int:
    """How many lines the header's items take: items whose middles lie within 16 px of each
    other (they are centred on their line) share one."""
    middles = page.evaluate(
        """() => [...document.querySelectorAll('.site-header__inner > *')]
              .map(e => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; })"""
    )
    lines = 0
    last = None
    for middle in sorted(middles):
        if last is None or middle - last > 16:
            lines += 1
        last = middle
    return lines


@pytest.mark.parametrize("username", ["specialist", "leadership", "product", "admin"])
def test_every_page_of_a_role_at_laptop_and_phone_width(demo, page, username):
    """The navigation's pages; from each, the first record it lists and the pages behind its
    buttons (new, import, history and the like); from each record, the pages it links to below
    its own address (edit, history, printable file). One page of each shape, at both widths."""
    sign_in(page, demo, username, PASSWORD)
    problems = []
    for width in (1920, 1536, 1366):  # desktop widths above the laptop's, where it once wrapped too
        page.set_viewport_size({"width": width, "height": 900})
        if header_rows(page) > 1:
            problems.append(f"at {width} px the header takes {header_rows(page)} lines")
    nav = page.eval_on_selector_all(".site-nav a", "links => links.map(a => a.getAttribute('href'))")
    seen = {path: path for path in nav}
    queue = list(seen.items())
    while queue:
        path_shape, path = queue.pop(0)
        problems += check_at_both_widths(page, demo, username, path)
        for target in links_below(page, path) if len(seen) < MAX_PAGES else []:
            target_shape = shape(path_shape, path, target)
            if target_shape not in seen:
                seen[target_shape] = target
                queue.append((target_shape, target))
    assert not problems, "\n".join(problems)
    print(f"{username}: {len(seen)} pages", *seen.values())


def check_at_both_widths(page, live_server, username: str, path: str) -> list[str]:
    """What is wrong with the page at a laptop's width, then at a phone's (the same page, the
    window narrowed: the layout is CSS alone)."""
    name = f"{username}{path.rstrip('/').replace('/', '-') or '-home'}"
    page.set_viewport_size(LAPTOP)
    response = page.goto(live_server.url + path)
    if response.status != 200:
        return [f"{path}: {response.status}"]
    problems = []
    if header_rows(page) > 1:
        problems.append(f"{path} at 1280 px: the header takes {header_rows(page)} lines")
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        try:
            check_page(page, name, accessibility=viewport is LAPTOP)
        except AssertionError as problem:
            problems.append(str(problem))
    if username == "product":
        shown = page.inner_text("body")
        problems += [f"{path} shows {found!r} to Product" for found in EMAIL.findall(shown)[:1]]
        problems += [f"{path} shows {found!r} to Product" for found in WALLET.findall(shown)[:1]]
    return problems
