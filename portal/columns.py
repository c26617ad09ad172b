"""A list page's columns, declared once: the table's columns, the CSV header and the CSV values
all come from one list of `Column`s, so they cannot drift apart.

    ACCOUNT_COLUMNS = [
        Column("display_name", "Account", "display_name"),
        Column("email", "E-mail", "email", table=False),       # in the CSV only
        Column("tier", "Tier", "tier__name", order_by=("tier__rank", "display_name")),
        Column("health_score", "Health", "health_score", numeric=True),
    ]

    class AccountTable(PortalTable):                            # django-tables2
        def __init__(self, *args, **kwargs):
            super().__init__(*args, extra_columns=table_columns(ACCOUNT_COLUMNS), **kwargs)

    return csv_response(                                       # the view's CSV export
        filename="accounts.csv",
        queryset=accounts.order_by("display_name", "pk"),
        columns=ACCOUNT_COLUMNS,
    )

A `Column` has:
- `name`: the table column's name (what `?sort=` takes) and the CSV header cell;
- `csv_name`: the CSV header cell when it differs from `name` (an export whose header predates
  the table's column names keeps it);
- `header`: the heading the table shows;
- `value_path`: the ORM lookup of the value (`"owner__username"`): the CSV reads it with one
  `values_list`, the table uses it as the accessor and, without `order_by`, to sort by;
- `csv=False` leaves it out of the CSV, `table=False` out of the table;
- `order_by`: what sorting by this column orders by, when not `value_path`;
- `numeric=True` right-aligns the table cells and heading (the `num` class).

Columns appear in the table and the CSV in the order of the list. Columns that are not data
(a row's selection checkbox) stay declared on the table class; its `Meta.sequence` places
them, with `"..."` for the declared columns.

Rows may still be written out in a template for speed (django-tables2 renders cell by cell);
such a template writes its cells in the order of the table's columns, and a test of the page
checks that every row has as many cells as the header.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import django_tables2 as tables
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from portal.csv_export import stream_csv

CSV_CHUNK_ROWS = 2000


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    value_path: str
    csv_name: str = ""
    csv: bool = True
    table: bool = True
    order_by: tuple[str, ...] = ()
    numeric: bool = False


def csv_header(columns: Sequence[Column]) -> list[str]:
    """The CSV's header row: the names (or `csv_name`s) of the columns that go into the CSV."""
    return [column.csv_name or column.name for column in columns if column.csv]


def csv_rows(queryset: QuerySet, columns: Sequence[Column]) -> Iterator[tuple]:
    """The CSV's rows, in the queryset's order: one `values_list` of the CSV columns' values,
    read in chunks so a large export is never held in memory."""
    paths = [column.value_path for column in columns if column.csv]
    return queryset.values_list(*paths).iterator(chunk_size=CSV_CHUNK_ROWS)


def table_columns(columns: Sequence[Column]) -> list[tuple[str, tables.Column]]:
    """The django-tables2 columns of the table's part of the declaration, for a table's
    `extra_columns`."""
    return [
        (
            column.name,
            tables.Column(
                verbose_name=column.header,
                accessor=column.value_path,
                order_by=column.order_by or None,
                attrs={"td": {"class": "num"}, "th": {"class": "num"}} if column.numeric else {},
            ),
        )
        for column in columns
        if column.table
    ]


def csv_response(*, filename: str, queryset: QuerySet, columns: Sequence[Column]) -> StreamingHttpResponse:
    """A list's CSV export: the declaration's header and values over `queryset` (already in the
    export's order), streamed."""
    return stream_csv(filename=filename, header=csv_header(columns), rows=csv_rows(queryset, columns))
