"""The feedback log: one declaration of columns (feedback.tables.FEEDBACK_COLUMNS) for the table,
the written-out rows and the CSV export."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account
from feedback.tables import FEEDBACK_COLUMNS
from feedback.tests.factories import FeedbackItemFactory, ProductAreaFactory
from portal.columns import csv_header
from portal.tests.pages import link_to

pytestmark = pytest.mark.django_db


def _exported(client, listing) -> list[list[str]]:
    response = client.get(link_to(listing, "Export CSV"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_export_csv_header_and_values_come_from_the_column_declaration(client, specialist, product_person):
    big = make_account(owner=specialist, volume_30d_usd=Decimal("1000000"))
    item = FeedbackItemFactory(
        created_by=specialist, title="Payouts are slow", account=big, area=ProductAreaFactory(name="Payouts")
    )
    client.force_login(product_person)
    rows = _exported(client, client.get(reverse("feedback:list")))
    # The header is what spreadsheets built on the export read: it keeps its names ("accounts",
    # "impact"), which are not the table's sort keys.
    assert (
        rows[0]
        == csv_header(FEEDBACK_COLUMNS)
        == [
            "id",
            "title",
            "category",
            "status",
            "owner_team",
            "severity",
            "area",
            "accounts",
            "volume_30d_usd",
            "impact",
            "created_at",
        ]
    )
    exported = dict(zip(rows[0], rows[1], strict=True))
    assert exported["id"] == str(item.pk) and exported["title"] == "Payouts are slow"
    assert exported["area"] == "Payouts"
    assert exported["accounts"] == "1"
    assert exported["volume_30d_usd"] == "1000000.00"


def _cells_per_row(html: str) -> tuple[int, set[int]]:
    """Header cells, and the cell counts of the body's rows."""
    head = re.search(r"<thead.*?</thead>", html, re.S).group(0)
    body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
    rows = re.findall(r"<tr.*?</tr>", body, re.S)
    return len(re.findall(r"<th[\s>]", head)), {len(re.findall(r"<td[\s>]", row)) for row in rows}


def test_every_written_out_row_has_one_cell_per_table_column(client, specialist):
    """The rows are written out in a template for speed: they must stay in step with the table's
    columns."""
    FeedbackItemFactory.create_batch(3, created_by=specialist)
    client.force_login(specialist)
    header, rows = _cells_per_row(client.get(reverse("feedback:list")).content.decode())
    assert header == sum(column.table for column in FEEDBACK_COLUMNS)
    assert rows == {header}
