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


def pages_of(page, live_server) -> list[str]:
    """The navigation's pages, then the first record each of them links to in its content."""
    nav = page.eval_on_selector_all(".site-nav a", "links => links.map(a => a.getAttribute('href'))")
    found = list(dict.fromkeys(nav))
    for path in list(found):
        page.goto(live_server.url + path)
        hrefs = page.eval_on_selector_all(
            "main a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
        )
        for href in hrefs:
            target = urlsplit(href).path
            if target.startswith(path) and target != path and re.search(r"/\d+/?$|/[A-Z]+-\d+", target):
                found.append(target)
                break
    return list(dict.fromkeys(found))


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
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, username, PASSWORD)
    problems = []
    for path in pages_of(page, demo):
        for viewport in (LAPTOP, PHONE):
            page.set_viewport_size(viewport)
            response = page.goto(demo.url + path)
            name = f"{username}{path.rstrip('/').replace('/', '-') or '-home'}"
            if response.status != 200:
                problems.append(f"{path}: {response.status}")
                continue
            if viewport is LAPTOP and header_rows(page) > 1:
                problems.append(f"{path} at 1280 px: the header takes {header_rows(page)} lines")
            try:
                check_page(page, name)
            except AssertionError as problem:
                problems.append(str(problem))
            if username == "product":
                shown = page.inner_text("body")
                problems += [f"{path} shows {found!r} to Product" for found in EMAIL.findall(shown)[:1]]
                problems += [f"{path} shows {found!r} to Product" for found in WALLET.findall(shown)[:1]]
    assert not problems, "\n".join(problems)
