"""pygal's SVG made CSP-safe and accessible: what runs, styles or links removed, the chart labelled
by its own title and description, and the look pygal would give with CSS written as presentation
attributes, with dashes, markers and hatching so series read without colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports.charts.style import (
    DASHES,
    DOT_RADIUS,
    GRID,
    HATCHES,
    INK,
    INK_MUTED,
    LABEL_SIZE,
    LEGEND_BOX,
    LEGEND_SIZE,
    LINE_WIDTH,
    MARKERS,
    NO_DATA_SIZE,
    PALETTE,
    TITLE_SIZE,
    VALUE_SIZE,
)


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
