"""Report charts drawn on the server as inline SVG with pygal (issue 17).

Each chart is an accessible image: the `<svg>` has role="img" and is labelled by its own `<title>`
and `<desc>`, with ids unique in the process so two charts on one page never clash. The caller
renders the numbers in a table beside it from the same data; the chart is for looking, the table
for reading.

The page's Content-Security-Policy allows scripts and styles from our static files only, so the
SVG carries neither: pygal's `<script>`, `<style>` and its JS tooltip layer are removed, and the
look pygal would give with CSS is written as SVG presentation attributes (fill, stroke, font-size),
which CSP does not govern. Series are told apart without colour by dash pattern and marker shape
(lines) or hatching (bars); the palette has at least 4.5:1 contrast on white. Text inherits the
page's font. The SVG has a viewBox and no width/height: the page sizes it with CSS
(`.report-chart__drawing svg { width: 100%; height: auto; }`).

Rendering touches no database: the functions take plain lists.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import pygal
from django.utils import dateformat
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from pygal.graph.graph import Graph

from reports.charts.memo import memoised
from reports.charts.style import (
    _BASE_CONFIG,
    DASHES,
    DOT_RADIUS,
    HEIGHT,
    INK,
    INK_MUTED,
    MARKERS,
    NO_DATA_TEXT,
    PALETTE,
    SVG_NS,
    WIDTH,
    Chart,
)
from reports.charts.svg import _label, _paint, _strip

__all__ = [
    "DASHES",
    "HEIGHT",
    "INK",
    "INK_MUTED",
    "MARKERS",
    "NO_DATA_TEXT",
    "PALETTE",
    "WIDTH",
    "Chart",
    "breakdown_bars",
    "distribution",
    "weekly_trend",
]

_ids = itertools.count(1)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


@memoised
def weekly_trend(
    *,
    title: str,
    description: str,
    weeks: Sequence[datetime.date],
    series: Mapping[str, Sequence[float | None]],
    unit: str = "",
) -> Chart:
    """One line per series over weeks (x labels like "12 Oct"). None is a week without data:
    the line breaks there instead of dropping to zero."""
    _check_lengths(weeks, series)
    chart = pygal.Line(
        **_BASE_CONFIG,
        title=_clean(title),
        allow_interruptions=True,  # None breaks the line
        truncate_label=-1,  # "12 Oct" is short; pygal would cut it to "…" with many weeks
        show_dots=True,  # a week between two gaps still shows
        dots_size=DOT_RADIUS,
        value_formatter=_formatter(unit),
        legend_at_bottom_columns=max(1, min(len(series), 4)),
    )
    labels = [_clean(dateformat.format(week, "j M")) for week in weeks]
    chart.x_labels = labels
    if len(labels) > 13:  # about a quarter's worth of labels fit; keep every nth
        chart.config.x_labels_major_every = math.ceil(len(labels) / 12)
        chart.config.show_minor_x_labels = False
    has_data = any(v is not None for values in series.values() for v in values)
    if has_data:
        for name, values in series.items():
            chart.add(_clean(name), [_number(v) for v in values])
    names = list(series) if has_data else []
    return _finish(chart, title, description, kind="line", names=names, data=(weeks, series, unit))


@memoised
def distribution(
    *,
    title: str,
    description: str,
    buckets: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str = "",
) -> Chart:
    """Bars of counts per bucket (e.g. response time bands), one bar series per key (e.g. "This
    period", "Previous period"), side by side. All counts zero or None: the no-data chart."""
    _check_lengths(buckets, series)
    chart = pygal.Bar(
        **_BASE_CONFIG,
        title=_clean(title),
        value_formatter=_formatter(unit),
        print_values=True,
        print_values_position="top",
        legend_at_bottom_columns=max(1, min(len(series), 4)),
        include_x_axis=True,  # bars start at zero
    )
    chart.x_labels = [_clean(b) for b in buckets]
    has_data = any(v for values in series.values() for v in values)
    if has_data:
        for name, values in series.items():
            chart.add(_clean(name), [_number(v) for v in values])
    names = list(series) if has_data else []
    return _finish(chart, title, description, kind="bar", names=names, data=(buckets, series, unit))


@memoised
def breakdown_bars(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str = "",
) -> Chart:
    """Horizontal bars, one per label, top to bottom in the order given (e.g. CSAT % by tier).
    None: no bar for that label (the table says why)."""
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values")
    numbers = [_number(v) for v in values]
    chart = pygal.HorizontalBar(
        **_BASE_CONFIG,
        title=_clean(title),
        value_formatter=_formatter(unit),
        print_values=True,
        print_values_position="top",
        show_legend=False,  # one series: its labels are on the axis
        include_x_axis=True,
        margin_right=64,  # room for the value printed after the longest bar
    )
    if unit == "%" and all(v is None or 0 <= v <= 100 for v in numbers):
        chart.config.range = (0, 100)
    # pygal stacks horizontal bars from the bottom: reverse so the first label reads first.
    chart.x_labels = [_clean(label) for label in reversed(labels)]
    has_data = any(v is not None for v in numbers)
    if has_data:
        chart.add(_clean(title), list(reversed(numbers)))
    names = [title] if has_data else []
    return _finish(chart, title, description, kind="bar", names=names, data=(labels, values, unit))


# --- drawing ------------------------------------------------------------------------------------


def _check_lengths(x: Sequence[object], series: Mapping[str, Sequence[object]]) -> None:
    for name, values in series.items():
        if len(values) != len(x):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(x)} x positions")


def _clean(text: object) -> str:
    """User text as XML can hold it (escaping is the serialiser's job)."""
    return _NOT_XML.sub("", str(text))


def _number(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def _formatter(unit: str):
    space = "" if unit in ("", "%") else " "

    def fmt(value: float | None) -> str:
        if value is None:
            return "no data"
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
        return f"{text}{space}{unit}"

    return fmt


def _finish(
    chart: Graph, title: str, description: str, *, kind: str, names: list[str], data: object
) -> Chart:
    title, description = _clean(title), _clean(description)
    root = ET.fromstring(chart.render(is_unicode=True, disable_xml_declaration=True))  # noqa: S314 — pygal's own output
    chart_id = _chart_id(title, description, data)
    _strip(root)
    _label(root, chart_id, title, description)
    _paint(root, chart_id, kind, [_clean(n) for n in names])
    root.set("xmlns", SVG_NS)
    return Chart(title=title, description=description, svg=mark_safe(ET.tostring(root, encoding="unicode")))  # noqa: S308 — serialised by ElementTree, which escapes every text and attribute


def _chart_id(title: str, description: str, data: object) -> str:
    """Unique on a page: the counter within this process, the hash of the content if charts
    drawn by two processes (a cache) ever meet on one page."""
    digest = hashlib.blake2b(repr((title, description, data)).encode(), digest_size=3).hexdigest()
    return f"chart-{slugify(title)[:40] or 'untitled'}-{next(_ids)}-{digest}"
