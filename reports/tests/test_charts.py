"""reports.charts: inline SVG that is safe under the portal's CSP, accessible and escaped.

No test here asks for the database: pytest-django refuses a query from a test not marked for it,
so each of these also proves that drawing a chart runs none."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from reports import charts

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = [dt.date(2026, 8, 3) + dt.timedelta(weeks=i) for i in range(12)]
NASTY = 'Tier <1> & "VIP"'


def parse(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))


def local(el: ET.Element) -> str:
    return el.tag.removeprefix(SVG)


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in el.get("class", "").split()]


def trend(**kwargs) -> charts.Chart:
    args = {
        "title": "CSAT % per week",
        "description": "CSAT % per week, 12 weeks",
        "weeks": WEEKS,
        "series": {
            "All tiers": [88, 90, None, 91, 87.5, 92, 93, None, None, 90, 89, 91],
            NASTY: [80, 82, 85, 83, 84, 84, 86, 88, 87, 85, 90, 92],
            "Tier 2": [70, 75, 72, 78, 80, 79, 77, 81, 82, 80, 83, 84],
        },
        "unit": "%",
    }
    return charts.weekly_trend(**(args | kwargs))


def bands(**kwargs) -> charts.Chart:
    args = {
        "title": "First response time",
        "description": "Conversations per first-response band, this period and the previous one",
        "buckets": ["< 15 min", "15–60 min", "1–4 h", "4–24 h", "1–3 days", "> 3 days"],
        "series": {"This period": [120, 80, 40, 12, 3, 1], "Previous period": [100, 90, 50, 20, 6, 0]},
    }
    return charts.distribution(**(args | kwargs))


def tiers(**kwargs) -> charts.Chart:
    args = {
        "title": "CSAT by tier",
        "description": "CSAT % by tier",
        "labels": [NASTY, "Tier 2", "Tier 3"],
        "values": [92.5, 88, None],
        "unit": "%",
    }
    return charts.breakdown_bars(**(args | kwargs))


ALL_KINDS = [trend, bands, tiers]


@pytest.mark.parametrize("make", ALL_KINDS)
def test_the_svg_is_xml_labelled_by_its_own_title_and_desc(make):
    chart = make()
    root = parse(chart)
    assert local(root) == "svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title, desc = list(root)[:2]  # first, so a screen reader meets them first
    assert (local(title), title.get("id"), title.text) == ("title", title_id, chart.title)
    assert (local(desc), desc.get("id"), desc.text) == ("desc", desc_id, chart.description)
    assert title_id.startswith(root.get("id")) and desc_id.startswith(root.get("id"))
    assert root.get("id").startswith("chart-" + re.sub(r"[^a-z0-9]+", "-", chart.title.lower()).strip("-"))


@pytest.mark.parametrize("make", ALL_KINDS)
def test_the_svg_scales_to_its_container(make):
    root = parse(make())
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert root.get("width") is None and root.get("height") is None
    assert root.get("font-family") == "inherit"


@pytest.mark.parametrize("make", ALL_KINDS)
def test_nothing_runs_styles_inline_or_links_out(make):
    """The CSP allows scripts and styles from our static files only: an inline <style> or style
    attribute would be blocked (and the chart drawn black), a <script> must never be there."""
    svg = str(make().svg)
    root = ET.fromstring(svg)
    assert "<script" not in svg.lower() and "<style" not in svg.lower()
    assert not svg.startswith("<?xml")
    tags = {local(el) for el in root.iter()}
    assert not tags & {"script", "style", "foreignObject", "image", "a", "use"}
    for el in root.iter():
        for key, value in el.attrib.items():
            assert "href" not in key and key != "style" and not key.startswith("on"), (key, value)
            assert "javascript:" not in value.lower()
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#"), ref  # only its own patterns
    assert re.findall(r"https?://[^\s\"']+", svg) == ["http://www.w3.org/2000/svg"]  # the xmlns


def test_user_text_is_escaped_in_the_markup_and_intact_in_the_drawing():
    for chart in (trend(), tiers(), trend(title=NASTY, description=NASTY)):
        svg = str(chart.svg)
        assert "<1>" not in svg and '& "' not in svg
        assert "Tier &lt;1&gt; &amp;" in svg
        texts = [el.text for el in ET.fromstring(svg).iter() if el.text]
        assert NASTY in texts
    named = trend(title=NASTY, description=NASTY)
    assert named.title == NASTY and parse(named)[0].text == NASTY


def test_characters_xml_cannot_hold_are_dropped_not_fatal():
    chart = tiers(labels=["Tier\x00 1\x0b", "Tier 2", "Tier 3"])
    assert "Tier 1" in [el.text for el in parse(chart).iter()]


def series_groups(root: ET.Element, index: int) -> list[ET.Element]:
    return [g for g in by_class(root, f"serie-{index}") if local(g) == "g"]


def test_a_week_without_data_is_a_gap_in_the_line_not_a_zero():
    chart = trend(series={"Rated": [90, 80, None, 70, 60]}, weeks=WEEKS[:5])
    root = parse(chart)
    lines = [el for g in series_groups(root, 0) for el in g if "line" in el.get("class", "").split()]
    assert len(lines) == 2  # weeks 1–2 and 4–5, nothing across week 3
    assert all(len(re.findall(r"[ML]", line.get("d"))) == 2 for line in lines)
    markers = by_class(root, "dot")
    assert len(markers) == 4
    tips = [el.text for el in root.iter(f"{SVG}title") if el.text.startswith("Rated")]
    assert tips == ["Rated, 3 Aug: 90%", "Rated, 10 Aug: 80%", "Rated, 24 Aug: 70%", "Rated, 31 Aug: 60%"]


def test_lines_differ_by_dash_and_marker_as_well_as_colour():
    root = parse(trend())
    looks = []
    for index in range(3):
        line = next(el for g in series_groups(root, index) for el in g if local(el) == "path")
        marker = next(el for el in by_class(root, "dot") if el in list(series_markers(root, index)))
        looks.append((line.get("stroke"), line.get("stroke-dasharray"), marker.get("class")))
    assert len({look[0] for look in looks}) == 3
    assert len({look[1] for look in looks}) == 3
    assert len({look[2] for look in looks}) == 3
    legend_samples = [
        el for g in by_class(root, "legend") for el in g if local(el) == "path" and not el.get("class")
    ]
    assert len(by_class(root, "legend-marker")) == 3
    assert [el.get("stroke-dasharray") for el in legend_samples] == [look[1] for look in looks]


def series_markers(root, index):
    for g in series_groups(root, index):
        yield from by_class(g, "dot")


def test_bar_series_differ_by_hatching_and_each_bar_carries_its_number():
    chart = bands()
    root = parse(chart)
    fills = [
        {el.get("fill") for el in by_class(g, "rect")}
        for g in (series_groups(root, 0)[0], series_groups(root, 1)[0])
    ]
    assert fills[0] == {charts.PALETTE[0]} and len(fills[1]) == 1
    (hatch,) = fills[1]
    pattern_id = hatch.removeprefix("url(#").removesuffix(")")
    assert [el.get("id") for el in root.iter(f"{SVG}pattern")] == [pattern_id]
    values = [el.text for el in by_class(root, "value")]
    assert values == ["120", "80", "40", "12", "3", "1", "100", "90", "50", "20", "6", "0"]
    assert "&lt; 15 min" in str(chart.svg) and "&gt; 3 days" in str(chart.svg)


def test_breakdown_reads_top_down_in_the_given_order_with_units():
    root = parse(tiers(labels=["Gold", "Silver", "Bronze"], values=[92.5, 88, 40]))
    axis = next(g for g in by_class(root, "axis") if "y" in g.get("class").split())
    labels = sorted((float(t.get("y")), t.text) for t in axis.iter(f"{SVG}text"))
    assert [text for _y, text in labels] == ["Gold", "Silver", "Bronze"]
    assert sorted(el.text for el in by_class(root, "value")) == ["40%", "88%", "92.5%"]


@pytest.mark.parametrize(
    "chart",
    [
        lambda: trend(weeks=[], series={}),
        lambda: trend(series={"A": [None] * 12, "B": [None] * 12}),
        lambda: bands(buckets=[], series={}),
        lambda: bands(series={"This period": [0] * 6}),
        lambda: tiers(labels=[], values=[]),
        lambda: tiers(values=[None, None, None]),
    ],
)
def test_no_data_draws_a_readable_message_not_an_error(chart):
    drawn = chart()
    root = parse(drawn)
    messages = [el.text for el in by_class(root, "no_data")]
    assert messages == [charts.NO_DATA_TEXT]
    assert root.get("role") == "img" and next(iter(root)).text == drawn.title
    assert not by_class(root, "axis") and not by_class(root, "dot") and not by_class(root, "rect")


def test_two_charts_with_one_title_never_share_an_id():
    first, second = bands(), bands()
    ids = [{el.get("id") for el in parse(chart).iter() if el.get("id")} for chart in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert len(ids[0]) == 4  # the svg, its title, its desc and the one hatch pattern; none of pygal's
    assert parse(first).get("id") != parse(second).get("id")


def test_series_must_match_the_x_positions():
    with pytest.raises(ValueError, match="series 'A' has 2 values for 12"):
        trend(series={"A": [1, 2]})
    with pytest.raises(ValueError, match="2 labels but 1 values"):
        charts.breakdown_bars(title="t", description="d", labels=["a", "b"], values=[1])


def test_many_weeks_keep_the_labels_readable():
    weeks = [dt.date(2025, 11, 3) + dt.timedelta(weeks=i) for i in range(52)]
    root = parse(trend(weeks=weeks, series={"A": list(range(52))}))
    axis = next(g for g in by_class(root, "axis") if "x" in g.get("class").split())
    shown = [t.text for t in axis.iter(f"{SVG}text")]
    assert 8 <= len(shown) <= 14 and shown[0] == "3 Nov"


def contrast_on_white(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def test_every_colour_reads_on_white():
    for colour in (*charts.PALETTE, charts.INK, charts.INK_MUTED):
        assert contrast_on_white(colour) >= 4.5, colour
    assert len(set(charts.DASHES)) == len(charts.DASHES) and len(set(charts.MARKERS)) == len(charts.MARKERS)


def test_a_chart_drawn_again_comes_from_the_memo_with_its_references_on_its_own_ids(monkeypatch):
    first = bands(title="Memo check")
    monkeypatch.setattr(charts.pygal, "Bar", lambda **kwargs: pytest.fail("drawn again, not remembered"))
    again = bands(title="Memo check")
    root = parse(again)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    labelled = root.get("aria-labelledby").split()
    hatched = set(re.findall(r"url\(#([^)]+)\)", again.svg))
    assert set(labelled) <= ids and hatched and hatched <= ids
    assert ids.isdisjoint({el.get("id") for el in parse(first).iter() if el.get("id")})
    same = re.sub(r"chart-[\w-]+", "ID", first.svg) == re.sub(r"chart-[\w-]+", "ID", again.svg)
    assert same  # the same drawing, only its ids renamed
