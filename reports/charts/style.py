"""How the report charts look: sizes, the palette and the shapes that tell series apart without
colour, pygal's style and configuration, and the drawn chart itself."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString
from pygal.style import Style

SVG_NS = "http://www.w3.org/2000/svg"


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
