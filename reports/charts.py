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
from dataclasses import dataclass

import pygal
from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from pygal.graph.graph import Graph
from pygal.style import Style

__all__ = ["NO_DATA_TEXT", "Chart", "breakdown_bars", "distribution", "weekly_trend"]


@dataclass(frozen=True)
class Chart:
    title: str  # also the SVG's <title>
    description: str  # a sentence for screen readers: the SVG's <desc>
    svg: SafeString  # inline <svg> markup: no <script>, no <style>, no external reference


NO_DATA_TEXT = "No data for this period"

# Drawing units of the viewBox; the SVG scales to its container.
WIDTH, HEIGHT = 800, 400

INK = "#1b2430"  # the portal's --ink: 15:1 on white
INK_MUTED = "#4a5565"  # --ink-muted: 7.4:1 on white
GRID = "#d5dae1"  # --line
# Series colours, each >= 4.5:1 on white and told apart by the common colour-vision deficiencies
# (blue / orange / purple / green / red / grey); shape and dash carry the difference as well.
PALETTE = ("#1a56a8", "#a65300", "#6a3d9a", "#1e6b3a", "#a4161a", "#4a5565")
# Line series: dash pattern and marker shape by series index (cycled).
DASHES = ("", "9 5", "2 4", "12 4 2 4", "5 5", "1 3")
MARKERS = ("circle", "square", "triangle", "diamond", "ring", "triangle-down")
# Bar series: solid, then hatched; stripes are white over the series colour.
HATCHES = (None, 45, -45, 0, 90, None)

TITLE_SIZE, LABEL_SIZE, LEGEND_SIZE, VALUE_SIZE, NO_DATA_SIZE = 18, 13, 14, 13, 24
LINE_WIDTH, DOT_RADIUS = 2.5, 4.5
LEGEND_BOX = 28  # room for a line sample with its marker

_STYLE = Style(
    font_family="inherit",
    background="transparent",
    plot_background="transparent",
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle=INK_MUTED,
    colors=PALETTE,
    title_font_size=TITLE_SIZE,
    label_font_size=LABEL_SIZE,
    major_label_font_size=LABEL_SIZE,
    legend_font_size=LEGEND_SIZE,
    value_font_size=VALUE_SIZE,
    no_data_font_size=NO_DATA_SIZE,
)

_BASE_CONFIG = {
    "style": _STYLE,
    "width": WIDTH,
    "height": HEIGHT,
    "explicit_size": False,  # a viewBox only
    "js": [],  # no external script; the inline config script pygal still writes is removed below
    "css": [],  # its CSS could not apply under our CSP anyway; see _paint
    "no_data_text": NO_DATA_TEXT,
    "legend_at_bottom": True,
    "legend_box_size": LEGEND_BOX,
    "margin": 16,
    "pretty_print": False,
}

_ids = itertools.count(1)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold
SVG_NS = "http://www.w3.org/2000/svg"


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


def _strip(root: ET.Element) -> None:
    """Plain tag names (the xmlns is set back on the root), and nothing that runs, styles, links
    or needs JavaScript: scripts, styles, the tooltip layer, pygal's ids and style attributes."""
    for el in root.iter():
        if el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
        for key in [k for k in el.attrib if k.startswith("{") or k in ("style", "id", "href")]:
            del el.attrib[key]
    for parent in list(root.iter()):
        for child in list(parent):
            classes = child.get("class", "").split()
            if child.tag in ("script", "style") or "tooltip-overlay" in classes:
                parent.remove(child)
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)


def _label(root: ET.Element, chart_id: str, title: str, description: str) -> None:
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    root.set("font-family", "inherit")
    for old in root.findall("title"):
        root.remove(old)
    title_el = ET.Element("title", id=f"{chart_id}-title")
    title_el.text = title
    desc_el = ET.Element("desc", id=f"{chart_id}-desc")
    desc_el.text = description
    root.insert(0, desc_el)
    root.insert(0, title_el)


def _classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def _series_index(classes: set[str]) -> int | None:
    for c in classes:
        if c.startswith("serie-") and c[6:].isdigit():
            return int(c[6:])
    return None


def _paint(root: ET.Element, chart_id: str, kind: str, names: list[str]) -> None:
    """What pygal's CSS would do, as presentation attributes; plus shapes, dashes and hatches."""
    defs = root.find("defs")
    if defs is None:
        defs = ET.SubElement(root, "defs")

    def fill_of(index: int) -> str:
        colour = PALETTE[index % len(PALETTE)]
        angle = HATCHES[index % len(HATCHES)]
        if kind != "bar" or angle is None:
            return colour
        pattern_id = f"{chart_id}-hatch-{index}"
        if defs.find(f"pattern[@id='{pattern_id}']") is None:
            pattern = ET.SubElement(
                defs,
                "pattern",
                id=pattern_id,
                patternUnits="userSpaceOnUse",
                width="7",
                height="7",
                patternTransform=f"rotate({angle})",
            )
            ET.SubElement(pattern, "rect", width="7", height="7", fill=colour)
            ET.SubElement(pattern, "rect", width="2.5", height="7", fill="#ffffff")
        return f"url(#{pattern_id})"

    def walk(el: ET.Element, context: frozenset[str], series: int | None) -> None:
        classes = _classes(el)
        context = context | classes
        if (index := _series_index(classes)) is not None:
            series = index
        if el.tag == "rect" and "background" in classes:
            el.set("fill", "none")
        elif el.tag == "text":
            _paint_text(el, classes, context)
        elif el.tag == "path" and "guide" in classes:
            hidden = ("horizontal" in context and "y" in context) or (
                "vertical" in context and "x" in context
            )
            el.set("fill", "none")
            el.set("stroke", "none" if hidden else GRID)
            el.set("stroke-width", "1")
        elif el.tag == "path" and "line" in classes and series is None:  # an axis
            el.set("fill", "none")
            el.set("stroke", INK_MUTED)
            el.set("stroke-width", "1")
        elif el.tag == "path" and "line" in classes and series is not None:
            el.set("fill", "none")
            el.set("stroke", PALETTE[series % len(PALETTE)])
            el.set("stroke-width", str(LINE_WIDTH))
            el.set("stroke-linejoin", "round")
            if dash := DASHES[series % len(DASHES)]:
                el.set("stroke-dasharray", dash)
        elif el.tag == "rect" and "rect" in classes and series is not None:  # a bar
            el.set("fill", fill_of(series))
            el.set("stroke", PALETTE[series % len(PALETTE)])
            el.set("stroke-width", "1")
        elif el.tag == "g" and ("dots" in classes or "bar" in classes):
            _tooltip(el, names, series)
        elif el.tag == "g" and "legend" in classes:
            _legend(el, kind, fill_of)
        for child in list(el):
            walk(child, context, series)

    walk(root, frozenset(), None)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == "title" and "guides" in _classes(parent):
                parent.remove(child)  # pygal's hover text for a gridline: the axis value, or junk
            elif not names and "axis" in _classes(child):
                parent.remove(child)  # no data: no empty grid around the message
    if not len(defs):
        root.remove(defs)


def _paint_text(el: ET.Element, classes: set[str], context: frozenset[str]) -> None:
    el.set("fill", INK)
    if "title" in classes:
        el.set("font-size", str(TITLE_SIZE))
        el.set("font-weight", "600")
        el.set("text-anchor", "middle")
    elif "no_data" in classes:
        el.set("font-size", str(NO_DATA_SIZE))
        el.set("fill", INK_MUTED)
        el.set("text-anchor", "middle")
    elif "value" in classes:
        el.set("font-size", str(VALUE_SIZE))
        if "horizontal" in context:  # after the end of the bar, not across it
            el.set("text-anchor", "start")
            el.set("x", f"{float(el.get('x', 0)) + 6:.2f}")
    elif "legend" in context:
        el.set("font-size", str(LEGEND_SIZE))
    elif "axis" in context:
        el.set("font-size", str(LABEL_SIZE))
        el.set("fill", INK_MUTED)
        if "x" in context:
            el.set("text-anchor", "start" if el.get("transform") else "middle")
        elif "y" in context:
            el.set("text-anchor", "end")


def _tooltip(group: ET.Element, names: list[str], series: int | None) -> None:
    """pygal's data for its JS tooltip (<desc>s) becomes a native <title>: the browser shows it
    on hover, no script needed. A marker shape replaces each line dot."""
    descs = {d.get("class", "").split()[0]: d.text or "" for d in group.findall("desc") if d.get("class")}
    for d in group.findall("desc"):
        group.remove(d)
    parts = [names[series] if series is not None and series < len(names) else "", descs.get("x_label", "")]
    label = ", ".join(p for p in parts if p)
    tip = ET.SubElement(group, "title")
    tip.text = f"{label}: {descs.get('value', '')}" if label else descs.get("value", "")
    if series is not None:
        for circle in group.findall("circle"):
            cx, cy = float(circle.get("cx", 0)), float(circle.get("cy", 0))
            group.remove(circle)
            group.insert(0, _marker(series, cx, cy))


def _marker(series: int, cx: float, cy: float, r: float = DOT_RADIUS, role: str = "dot") -> ET.Element:
    colour = PALETTE[series % len(PALETTE)]
    shape = MARKERS[series % len(MARKERS)]
    attrs = {"fill": colour, "stroke": colour, "stroke-width": "1", "class": f"{role} marker-{shape}"}
    if shape in ("circle", "ring"):
        if shape == "ring":
            attrs.update(fill="#ffffff", **{"stroke-width": "2"})
        return ET.Element("circle", cx=f"{cx:.2f}", cy=f"{cy:.2f}", r=f"{r:.2f}", **attrs)
    points = {
        "square": [(-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)],
        "triangle": [(0, -1.25), (1.15, 0.85), (-1.15, 0.85)],
        "triangle-down": [(0, 1.25), (1.15, -0.85), (-1.15, -0.85)],
        "diamond": [(0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)],
    }[shape]
    d = "M" + " L".join(f"{cx + dx * r:.2f} {cy + dy * r:.2f}" for dx, dy in points) + " Z"
    return ET.Element("path", d=d, **attrs)


def _legend(group: ET.Element, kind: str, fill_of) -> None:
    """The legend's colour box becomes what the series looks like: a dashed line with its marker,
    or a hatched bar, so the key reads without colour."""
    box = next((r for r in group.findall("rect") if _series_index_from_colour(r) is not None), None)
    if box is None:
        return
    index = _series_index_from_colour(box)
    assert index is not None
    x, y = float(box.get("x", 0)), float(box.get("y", 0))
    size = float(box.get("width", LEGEND_BOX))
    position = list(group).index(box)
    group.remove(box)
    if kind == "line":
        mid = y + size / 2
        line = ET.Element(
            "path",
            d=f"M{x:.2f} {mid:.2f} h{size:.2f}",
            fill="none",
            stroke=PALETTE[index % len(PALETTE)],
            **{"stroke-width": str(LINE_WIDTH)},
        )
        if dash := DASHES[index % len(DASHES)]:
            line.set("stroke-dasharray", dash)
        group.insert(position, line)
        group.insert(position + 1, _marker(index, x + size / 2, mid, role="legend-marker"))
    else:
        swatch = ET.Element(
            "rect",
            x=f"{x:.2f}",
            y=f"{y + size * 0.2:.2f}",
            width=f"{size:.2f}",
            height=f"{size * 0.6:.2f}",
            fill=fill_of(index),
            stroke=PALETTE[index % len(PALETTE)],
            **{"stroke-width": "1"},
        )
        group.insert(position, swatch)


def _series_index_from_colour(el: ET.Element) -> int | None:
    for c in _classes(el):
        if c.startswith("color-") and c[6:].isdigit():
            return int(c[6:])
    return None
