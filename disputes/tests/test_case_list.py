"""The case list and a market's cases: one declaration of columns (disputes.tables.CASE_COLUMNS)
for the table, the written-out rows and the CSV export."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import dispute_file
from disputes.tables import CASE_COLUMNS
from disputes.tests.factories import gamma_market
from portal.columns import csv_header
from portal.tests.pages import link_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(specialist):
    market = market_upsert_from_gamma(data=gamma_market(), by=specialist).market
    account = make_account(owner=specialist, display_name="Dana Whitfield")
    return [
        dispute_file(
            by=specialist,
            account=account,
            category="market_resolution",
            market=market,
            claim=f"claim {n}",
            amount_at_stake=Decimal("250.50") * n,
            assignee=specialist if n % 2 else None,
        )
        for n in range(3)
    ]


def _exported(client, listing) -> list[list[str]]:
    response = client.get(link_to(listing, "Export CSV"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_export_csv_header_and_values_come_from_the_column_declaration(client, leader, specialist, cases):
    client.force_login(leader)
    rows = _exported(client, client.get(reverse("disputes:case_list")))
    # The header is what spreadsheets built on the export read: it stays as it has always been.
    assert (
        rows[0]
        == csv_header(CASE_COLUMNS)
        == [
            "reference",
            "account",
            "category",
            "status",
            "venue",
            "assignee",
            "resolution_due",
            "amount_at_stake",
        ]
    )
    assert [row[0] for row in rows[1:]] == [case.reference for case in reversed(cases)]
    exported = dict(zip(rows[0], rows[1 + 1], strict=True))  # cases[1], the assigned one
    assert exported["account"] == "Dana Whitfield"
    assert exported["assignee"] == specialist.username
    assert exported["venue"] == cases[1].venue
    assert exported["amount_at_stake"] == "250.50"


def _cells_per_row(html: str) -> tuple[int, set[int]]:
    """Header cells, and the cell counts of the body's rows."""
    head = re.search(r"<thead.*?</thead>", html, re.S).group(0)
    body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
    rows = re.findall(r"<tr.*?</tr>", body, re.S)
    return len(re.findall(r"<th[\s>]", head)), {len(re.findall(r"<td[\s>]", row)) for row in rows}


@pytest.mark.parametrize(
    ("page", "who", "checkbox"),
    [("list", "leader", False), ("market", "specialist", True), ("market", "leader", False)],
)
def test_every_written_out_row_has_one_cell_per_table_column(client, request, cases, page, who, checkbox):
    """The rows are written out in a template for speed: they must stay in step with the table's
    columns (on a market's page, a checkbox column for those who may change cases in bulk)."""
    client.force_login(request.getfixturevalue(who))
    url = (
        reverse("disputes:case_list")
        if page == "list"
        else reverse("disputes:market_detail", args=[cases[0].market_id])
    )
    header, rows = _cells_per_row(client.get(url).content.decode())
    assert header == sum(column.table for column in CASE_COLUMNS) + checkbox
    assert rows == {header}


def test_case_list_headings_name_the_account_and_the_assignee(client, specialist, cases):
    client.force_login(specialist)
    html = client.get(reverse("disputes:case_list")).content.decode()
    headings = [
        re.sub(r"<[^>]+>|\s+", " ", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
    ]
    assert headings[:6] == ["Case", "Account", "Category", "Status", "Assignee", "Resolution due"]
    assert re.search(r'<th[^>]*class="[^"]*\bnum\b[^"]*"[^>]*>\s*(<a[^>]*>)?\s*At stake', html)
