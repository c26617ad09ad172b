"""What every browser test checks on a page, in Debian's Chromium driven by Playwright: no
serious or critical axe-core violation, no sideways scrolling of the page body, and a screenshot
for people to look at (under SCREENSHOTS, which the test run prints)."""

import os
import re
import shutil
import weakref
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root in a container, on a machine with no network but loopback: no sandbox, and
# none of the background connections it would make at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts" / "screenshots")
)
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SERIOUS = {"serious", "critical"}
AXE_SCRIPT = Axe().axe_script
_contexts_with_axe = weakref.WeakSet()


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page. The script is added to the browser context once, to
    run in every page it opens, rather than sent over with each scan (half a megabyte)."""
    if page.context not in _contexts_with_axe:
        page.context.add_init_script(script=AXE_SCRIPT)
        _contexts_with_axe.add(page.context)
    if not page.evaluate("typeof axe !== 'undefined'"):  # opened before the script was added
        page.evaluate(AXE_SCRIPT)
    return page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")


# Controls, links, headings and badges that cover one another (neither inside the other): what a
# person sees as text over text or a button they cannot press. Boxes under 2 px (visually hidden
# text) and what a scrolling box hides are not drawn, so they do not count.
OVERLAPS = """() => {
  // A link that wraps is one box per line: compare the lines, not the rectangle around them.
  const seen = [...document.querySelectorAll('a, button, input, select, textarea, summary, h1, h2, h3, .badge')]
    .filter(e => e.checkVisibility())
    .map(e => [e, [...e.getClientRects()].filter(r => r.width > 2 && r.height > 2 && shown(e, r))])
    .filter(([e, rects]) => rects.length);
  function shown(e, r) {
    for (let box = e.parentElement; box; box = box.parentElement) {
      if (getComputedStyle(box).overflowX === 'visible') continue;
      const b = box.getBoundingClientRect();
      if (r.right <= b.left || r.left >= b.right || r.bottom <= b.top || r.top >= b.bottom) return false;
    }
    return true;
  }
  const cover = (ra, rb) => Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left) > 2
    && Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top) > 2;
  const label = e => `${e.tagName.toLowerCase()} "${(e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 40)}"`;
  const found = [];
  for (let i = 0; i < seen.length; i++) for (let j = i + 1; j < seen.length; j++) {
    const [a, ra] = seen[i], [b, rb] = seen[j];
    if (a.contains(b) || b.contains(a)) continue;
    if (ra.some(x => rb.some(y => cover(x, y)))) found.push(`${label(a)} and ${label(b)}`);
  }
  return found;
}"""


def sign_in(page, live_server, username: str, password: str = "correct horse battery staple") -> None:
    """Through the sign-in form, as a person does."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    page.wait_for_url(lambda url: "/login/" not in url)


def check_page(page, name: str, *, accessibility: bool = True) -> None:
    """The page as it is now, at the viewport's width: no sideways scrolling, nothing drawn over
    anything else, accessible (axe-core; `accessibility=False` when the same page was scanned at
    another width), and a screenshot saved as SCREENSHOTS/<name>-<width>.jpg."""
    width = page.viewport_size["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.jpg", full_page=True, type="jpeg", quality=70)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
    overlaps = page.evaluate(OVERLAPS)
    assert not overlaps, f"{name} at {width} px: elements overlap: " + "; ".join(overlaps[:5])
    if not accessibility:
        return
    serious = [v for v in axe_violations(page) if v.get("impact") in SERIOUS]
    assert not serious, f"{name} at {width} px: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['target']}"
        for v in serious
    )


def open_from_nav(page, label: str) -> None:
    """Follow the header's link to `label`, opening the *More* menu first when it is there."""
    link = page.locator(".site-nav").get_by_role("link", name=label, exact=True)
    if not link.is_visible():
        page.locator(".site-nav summary").click()
    link.click()


def columns_cut(page) -> list[str]:
    """Headings of table columns that a table's own scrolling box hides on first view: what a
    person would have to scroll sideways to find."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.table-scroll th, .table-wrap th')].filter(th => {
              const box = th.closest('.table-scroll, .table-wrap').getBoundingClientRect();
              return th.getBoundingClientRect().right > box.right + 1;
            }).map(th => th.innerText.trim())"""
    )
