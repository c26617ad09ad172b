"""Message bodies: Intercom stores and returns note and conversation part bodies as HTML."""

from __future__ import annotations

import html
import re


def _html_body(text: str) -> str:
    """Intercom returns note and part bodies as HTML: plain text comes back wrapped in <p>."""
    stripped = text.strip()
    if stripped.startswith("<"):
        return stripped
    return "".join(f"<p>{html.escape(line)}</p>" for line in stripped.splitlines() or [""])


def _plain_text(body: str | None) -> str:
    if body is None:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", " ", body)).strip()
