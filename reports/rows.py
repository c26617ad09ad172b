"""The rows behind the numbers: each figure's `Drill` names one of these lists, which selects
the same items with the same definitions as the figure, as a table (25 rows a page) and a CSV
streamed row by row.

A list's `rows(query)` returns the filtered, ordered queryset: the period is
`query.period` (already the previous one when the link asks for it), `query.filters` the
parsed filters the list declares, `query.specialist` a person whose own items only may be
listed (a Specialist's view), or None."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from portal.columns import Column
from reports.periods import Period


class BadFilter(ValueError):
    """A filter value the list cannot read: the page answers 400 with this message."""


@dataclass(frozen=True)
class RowQuery:
    period: Period
    filters: dict
    specialist: object | None = None


@dataclass(frozen=True)
class RowList:
    key: str
    title: str
    definition: str
    columns: tuple[Column, ...]
    rows: Callable[[RowQuery], QuerySet]
    roles: tuple[str, ...]
    # filter name -> parser of its query-string value (raise BadFilter with a clear message)
    filters: dict[str, Callable[[str], object]]
    item_url: Callable[[object], str] | None = None  # a row's page, for the first column's link
    # The same rows without the joins that only name things, when `rows` has such joins: the
    # page counts these (a count with the joins reads every joined row).
    counted: Callable[[RowQuery], QuerySet] | None = None


_lists: dict[str, RowList] = {}


def register_rows(row_list: RowList) -> RowList:
    _lists[row_list.key] = row_list
    return row_list


def row_list(key: str) -> RowList | None:
    return _lists.get(key)


def parse_filters(row_list: RowList, params) -> dict:
    """The list's filters from the query string; unknown names are ignored (the period's own
    parameters share the query string), bad values raise BadFilter."""
    parsed = {}
    for name, parse in row_list.filters.items():
        raw = params.get(name)
        if raw in (None, ""):
            continue
        parsed[name] = parse(raw)
    return parsed


def positive_id(label: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise BadFilter(f"{label} must be a number, not “{raw[:40]}”.") from None
        if value < 0:
            raise BadFilter(f"{label} must be a number, not “{raw[:40]}”.")
        return value

    return parse


def one_of(label: str, choices) -> Callable[[str], str]:
    allowed = {str(value) for value in choices}

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise BadFilter(f"{label} is one of {', '.join(sorted(allowed))}; “{raw[:40]}” is not.")
        return raw

    return parse
