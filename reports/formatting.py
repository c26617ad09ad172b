"""How report numbers read: values in their unit, and the change from the previous period in
words, with whether it is good news (for the colour, which is never the only signal)."""

import functools
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import number_format

from reports.metrics.base import Drill

DASH = "—"


def format_value(value, unit: str) -> str:
    if value is None:
        return DASH
    if unit == "percent":
        return f"{number_format(value, 1, force_grouping=True)}%"
    if unit == "seconds":
        return format_duration(value)
    if unit == "hours":
        return f"{number_format(value, 1, force_grouping=True)} h"
    if unit == "ratio":
        return number_format(value, 2, force_grouping=True)
    return number_format(round(value), 0, force_grouping=True)


def format_duration(seconds: float) -> str:
    """Seconds as a person reads a wait: "45 s", "12 min", "3.5 h", "2.1 days"."""
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400:
        return f"{number_format(seconds / 3600, 1)} h"
    return f"{number_format(seconds / 86400, 1)} days"


@dataclass(frozen=True)
class Change:
    words: str
    tone: str  # "good", "bad" or "neutral"
    arrow: str  # ▲ ▼ or =, beside the words (never alone)


def describe_change(value, previous, unit: str, better) -> Change:
    if value is None or previous is None:
        return Change("no figure to compare with", "neutral", "")
    if unit == "percent":
        delta = value - previous
        size = f"{number_format(abs(delta), 1)} points"
        flat = abs(delta) < 0.05
    else:
        delta = value - previous
        if previous:
            size = f"{number_format(abs(delta) / abs(previous) * 100, 0)}%"
            flat = abs(delta) / abs(previous) < 0.005
        else:
            size = format_value(abs(delta), unit)
            flat = delta == 0
    was = format_value(previous, unit)
    if flat:
        return Change(f"no change from {was}", "neutral", "=")
    up = delta > 0
    tone = "neutral" if better is None else ("good" if (up == (better == "up")) else "bad")
    return Change(f"{'up' if up else 'down'} {size} from {was}", tone, "▲" if up else "▼")


def drill_url(drill: Drill | None, period_params) -> str:
    if drill is None:
        return ""
    params = list(period_params) + list(drill.filters)
    if drill.previous:
        params.append(("previous", "1"))
    return f"{_rows_path(drill.rows, get_script_prefix(), get_urlconf())}?{urlencode(params)}"


@functools.lru_cache(maxsize=128)
def _rows_path(rows: str, _prefix: str, _urlconf) -> str:
    """The row list's path, worked out once: a page links some 500 numbers to a few dozen lists
    (reverse() for each took about 15 ms of the 90-day page)."""
    return reverse("reports:rows", args=[rows])
