"""A family's chart data drawn as SVG (reports.charts), with the rows of its table beside it."""

from dataclasses import dataclass

from django.utils.safestring import SafeString

from reports import charts
from reports.metrics.base import ChartData


@dataclass(frozen=True)
class Drawn:
    svg: SafeString
    rows: list[tuple]  # (x, [value per series]) for the table beside the chart


def draw(chart: ChartData) -> Drawn:
    series = {name: list(values) for name, values in chart.series.items()}
    if chart.kind == "trend":
        drawn = charts.weekly_trend(
            title=chart.title,
            description=chart.description,
            weeks=list(chart.x),
            series=series,
            unit=_unit(chart),
        )
    else:
        drawn = charts.distribution(
            title=chart.title,
            description=chart.description,
            buckets=list(chart.x),
            series=series,
            unit=_unit(chart),
        )
    rows = [(x, [values[i] for values in series.values()]) for i, x in enumerate(chart.x)]
    return Drawn(svg=drawn.svg, rows=rows)


def _unit(chart: ChartData) -> str:
    return {"percent": "%", "seconds": "s", "hours": "h"}.get(chart.unit, "")
