"""What every browser test checks on a page, in Debian's Chromium driven by Playwright: no
serious or critical axe-core violation, no sideways scrolling of the page body, and a screenshot
for people to look at (under SCREENSHOTS, which the test run prints)."""

import os
import re
import shutil
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
_axe = Axe()


def sign_in(page, live_server, username: str, password: str = "correct horse battery staple") -> None:
    """Through the sign-in form, as a person does."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    page.wait_for_url(lambda url: "/login/" not in url)


def check_page(page, name: str) -> None:
    """The page as it is now, at the viewport's width: accessible, no sideways scrolling, and a
    screenshot saved as SCREENSHOTS/<name>-<width>.png."""
    width = page.viewport_size["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
    results = _axe.run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not serious, f"{name} at {width} px: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['target']}"
        for v in serious
    )
