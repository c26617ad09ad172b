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
