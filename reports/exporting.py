"""The figures of a report as CSV rows: the reports page's download and a frozen week's export
and e-mail attachment write the same columns."""

from collections.abc import Iterable, Iterator

from reports.formatting import describe_change, format_value
from reports.metrics.base import Section
from reports.periods import Period

FIGURE_HEADER = ["section", "metric", "period", "value", "previous period", "change", "count", "definition"]


def figure_rows(sections: Iterable[Section], period: Period) -> Iterator[list]:
    span = f"{period.start:%Y-%m-%d %H:%M %Z} – {period.end:%Y-%m-%d %H:%M %Z}"
    for section in sections:
        for figure in section.figures:
            change = describe_change(figure.value, figure.previous, figure.unit, figure.better)
            yield [
                section.title,
                figure.label,
                span,
                format_value(figure.value, figure.unit),
                format_value(figure.previous, figure.unit),
                change.words,
                "" if figure.sample is None else figure.sample,
                figure.definition,
            ]


def breakdown_rows(sections: Iterable[Section], period: Period) -> Iterator[list]:
    """Each cell of the sections' breakdowns (by tier, specialist, category …) as a row under the
    same header: the metric names the table, its row and its column."""
    span = f"{period.start:%Y-%m-%d %H:%M %Z} – {period.end:%Y-%m-%d %H:%M %Z}"
    for section in sections:
        for breakdown in section.breakdowns:
            for label, cells in breakdown.rows:
                for column, cell in zip(breakdown.columns, cells, strict=False):
                    yield [
                        section.title,
                        f"{breakdown.title}: {label}, {column}",
                        span,
                        format_value(cell.value, cell.unit),
                        "",
                        "",
                        "",
                        breakdown.definition,
                    ]


def snapshot_rows(sections: list[Section], period: Period) -> Iterator[list]:
    """A frozen week's figures, then every breakdown cell."""
    yield from figure_rows(sections, period)
    yield from breakdown_rows(sections, period)
