import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Account, CheckIn, Wallet
from accounts.tables import ACCOUNT_COLUMNS
from accounts.tests.factories import make_account, make_check_in, specialist_user
from portal.columns import csv_header
from portal.myday import panels_for
from portal.tests.pages import form_on, link_to, submit

pytestmark = pytest.mark.django_db
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def book(specialist):
    """Three accounts of the signed-in specialist, and two of a colleague."""
    colleague = specialist_user(username="colleague")
    mine = [make_account(owner=specialist, display_name=f"Mine {n}") for n in range(3)]
    theirs = [make_account(owner=colleague, display_name=f"Theirs {n}") for n in range(2)]
    return {"mine": mine, "theirs": theirs, "colleague": colleague}


def names(response) -> set[str]:
    return {row.record.display_name for row in response.context["table"].paginated_rows}


def test_a_specialist_sees_their_own_book_by_default_and_everyone_on_request(client, specialist, book):
    client.force_login(specialist)
    assert names(client.get(reverse("accounts:list"))) == {"Mine 0", "Mine 1", "Mine 2"}
    assert len(names(client.get(reverse("accounts:list"), {"owner": ""}))) == 5


def test_leadership_sees_every_account_and_no_bulk_actions(client, leader, book):
    client.force_login(leader)
    response = client.get(reverse("accounts:list"))
    assert len(names(response)) == 5
    assert "Reassign selected" not in response.content.decode()


def test_search_finds_an_account_by_full_wallet_address(client, specialist, book):
    make_account(owner=book["colleague"], display_name="Whale", wallets=[WALLET])
    client.force_login(specialist)
    response = client.get(reverse("accounts:list"), {"owner": "", "q": WALLET})
    assert names(response) == {"Whale"}


def test_due_filter_and_sort(client, specialist, book):
    overdue = book["mine"][0]
    make_check_in(overdue, days_ago=9)
    for account in book["mine"][1:]:
        make_check_in(account, days_ago=1)
    client.force_login(specialist)
    assert names(client.get(reverse("accounts:list"), {"due": "overdue"})) == {"Mine 0"}
    rows = client.get(reverse("accounts:list"), {"sort": "next_check_in_due"}).context["table"].paginated_rows
    assert rows[0].record == overdue


def test_an_invalid_filter_value_gives_a_message_not_a_500(client, specialist, book):
    client.force_login(specialist)
    response = client.get(reverse("accounts:list"), {"owner": "999999", "due": "whenever"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def _exported(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_export_csv_link_downloads_the_filtered_rows_with_formulas_defused(client, specialist, book):
    make_account(owner=specialist, display_name="=HYPERLINK(evil)", email="evil@example.com")
    client.force_login(specialist)
    page = client.get(reverse("accounts:list"))
    rows = _exported(client.get(link_to(page, "Export CSV")))
    assert rows[0][0] == "display_name"
    assert {row[0] for row in rows[1:]} == {"Mine 0", "Mine 1", "Mine 2", "'=HYPERLINK(evil)"}

    searched = submit(client, form_on(page, has_field="q", action=""), q="evil@example.com")
    assert names(searched) == {"=HYPERLINK(evil)"}
    rows = _exported(client.get(link_to(searched, "Export CSV")))
    assert [row[:2] for row in rows[1:]] == [["'=HYPERLINK(evil)", "evil@example.com"]]
    assert "Mine 0" not in str(rows) and book["mine"][0].email not in str(rows)

    everyone = submit(
        client, form_on(page, has_field="q", action=""), owner="", tier=book["theirs"][0].tier_id
    )
    assert len(names(everyone)) == 6
    theirs = submit(client, form_on(everyone, has_field="q", action=""), q="Theirs")
    exported = {row[0] for row in _exported(client.get(link_to(theirs, "Export CSV")))[1:]}
    assert exported == {"Theirs 0", "Theirs 1"}


def test_export_csv_header_and_values_come_from_the_column_declaration(client, specialist, book):
    client.force_login(specialist)
    rows = _exported(client.get(reverse("accounts:list"), {"export": "csv"}))
    assert rows[0] == csv_header(ACCOUNT_COLUMNS)
    mine = book["mine"][0]
    exported = dict(zip(rows[0], next(row for row in rows[1:] if row[0] == mine.display_name), strict=True))
    assert exported["tier"] == mine.tier.name
    assert exported["owner"] == specialist.username
    assert exported["email"] == mine.email


def _cells_per_row(html: str) -> tuple[int, set[int]]:
    """Header cells, and the cell counts of the body's rows."""
    head = re.search(r"<thead.*?</thead>", html, re.S).group(0)
    body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
    rows = re.findall(r"<tr.*?</tr>", body, re.S)
    return len(re.findall(r"<th[\s>]", head)), {len(re.findall(r"<td[\s>]", row)) for row in rows}


@pytest.mark.parametrize("who", ["specialist", "leader"])
def test_every_written_out_row_has_one_cell_per_table_column(client, who, request, book):
    """The rows are written out in a template for speed: they must stay in step with the table's
    columns (a checkbox column only for those who may reassign)."""
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("accounts:list"), {"owner": ""})
    header, rows = _cells_per_row(response.content.decode())
    table_columns = sum(column.table for column in ACCOUNT_COLUMNS)
    assert header == table_columns + (who == "specialist")
    assert rows == {header}


def test_list_query_count_does_not_grow_with_rows(client, leader, django_assert_max_num_queries):
    owner = specialist_user()
    for n in range(30):
        make_account(owner=owner, display_name=f"A{n}", wallets=[f"0x{n + 1:040x}"])
    client.force_login(leader)
    with django_assert_max_num_queries(10) as small:
        client.get(reverse("accounts:list"), {"per_page": 5})
    with django_assert_max_num_queries(10) as large:
        client.get(reverse("accounts:list"), {"per_page": 30})
    assert len(small.captured_queries) == len(large.captured_queries)


def test_reassign_selected_rows(client, specialist, book):
    client.force_login(specialist)
    target = book["colleague"]
    response = client.post(
        reverse("accounts:reassign"),
        {"selected": [a.pk for a in book["mine"][:2]], "to": target.pk, "next": "/accounts/"},
        follow=True,
    )
    assert f"2 accounts moved to {escape(target.display_name)}" in response.content.decode()
    assert Account.objects.filter(owner=target).count() == 4


def test_reassign_without_selection_says_so(client, specialist, book):
    client.force_login(specialist)
    response = client.post(reverse("accounts:reassign"), {"to": book["colleague"].pk}, follow=True)
    assert "Select at least one account" in response.content.decode()


def test_move_a_whole_portfolio(client, specialist, book):
    client.force_login(specialist)
    response = client.post(
        reverse("accounts:reassign_portfolio"),
        {"from_owner": book["colleague"].pk, "to": specialist.pk, "reason": "Leaving"},
        follow=True,
    )
    colleague, me = escape(book["colleague"].display_name), escape(specialist.display_name)
    assert f"2 accounts moved from {colleague} to {me}" in response.content.decode()
    assert Account.objects.filter(owner=specialist).count() == 5


def test_create_an_account_with_wallets(client, specialist):
    client.force_login(specialist)
    response = client.post(
        reverse("accounts:new"),
        {
            "display_name": "Kestrel Capital",
            "email": "Desk@Kestrel.example",
            "external_id": "pm-1",
            "venue": "international",
            "tier": 1,
            "owner": specialist.pk,
            "status": "active",
            "time_zone": "Europe/London",
            "preferred_channel": "telegram",
            "volume_30d_usd": "1000000",
            "volume_prior_30d_usd": "900000",
            "wallets": WALLET + "\n",
        },
    )
    account = Account.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "accounts:detail", args=[account.pk]
    )
    assert account.email == "desk@kestrel.example"
    assert Wallet.objects.get().address == WALLET.lower()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("wallets", WALLET[:-1] + "D", "EIP-55 checksum"),
        ("wallets", "0x123", "not a wallet address"),
        ("cadence_override_days", "400", "less than or equal to 365"),
        ("owner", "999999", "Select a valid choice"),
    ],
)
def test_bad_account_input_is_explained_on_the_form(client, specialist, field, value, message):
    client.force_login(specialist)
    data = {
        "display_name": "X",
        "email": "x@example.com",
        "external_id": "pm-x",
        "venue": "international",
        "tier": 1,
        "owner": specialist.pk,
        "status": "active",
        "time_zone": "UTC",
        "preferred_channel": "intercom",
        "volume_30d_usd": "0",
        "volume_prior_30d_usd": "0",
        field: value,
    }
    response = client.post(reverse("accounts:new"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Account.objects.exists()


def test_a_non_specialist_owner_is_refused(client, specialist, leader):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {
            "display_name": "X",
            "email": account.email,
            "external_id": account.external_id,
            "venue": "international",
            "tier": 1,
            "owner": leader.pk,
            "status": "active",
            "time_zone": "UTC",
            "preferred_channel": "intercom",
            "volume_30d_usd": "0",
            "volume_prior_30d_usd": "0",
        },
    )
    assert response.status_code == 400
    assert Account.objects.get().owner == specialist


def test_log_a_check_in_from_the_account_page(client, specialist):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    when = timezone.localtime() - dt.timedelta(hours=2)
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        {
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "kind": "scheduled",
            "channel": "call",
            "sentiment": "positive",
            "summary": "Reviewed positions",
        },
        follow=True,
    )
    assert "Check-in logged." in response.content.decode()
    assert CheckIn.objects.get().summary == "Reviewed positions"


def test_a_future_check_in_is_refused_on_the_page(client, specialist):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    later = timezone.localtime() + dt.timedelta(days=1)
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        {
            "occurred_at": later.strftime("%Y-%m-%dT%H:%M"),
            "kind": "scheduled",
            "channel": "call",
            "sentiment": "neutral",
            "summary": "x",
        },
    )
    assert response.status_code == 400
    assert "can’t be in the future" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_snooze_beyond_14_days_is_refused_on_the_page(client, specialist):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    response = client.post(reverse("accounts:snooze", args=[account.pk]), {"days": 30, "reason": "x"})
    assert response.status_code == 400
    assert "less than or equal to 14" in response.content.decode()


def test_a_duplicate_wallet_is_refused_naming_its_account(client, specialist):
    make_account(owner=specialist, display_name="Holder", wallets=[WALLET])
    other = make_account(owner=specialist)
    client.force_login(specialist)
    response = client.post(reverse("accounts:wallet_new", args=[other.pk]), {"address": WALLET.lower()})
    assert response.status_code == 400
    assert "already belongs to account “Holder”" in response.content.decode()


def test_account_page_query_count_is_constant_with_200_check_ins(
    client, specialist, django_assert_max_num_queries
):
    account = make_account(owner=specialist, wallets=[WALLET])
    make_check_in(account, days_ago=1)
    client.force_login(specialist)
    with django_assert_max_num_queries(40) as few:
        assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200
    now = timezone.now()
    CheckIn.objects.bulk_create(
        CheckIn(account=account, specialist=specialist, occurred_at=now - dt.timedelta(days=n), summary="s")
        for n in range(2, 200)
    )
    with django_assert_max_num_queries(40) as many:
        client.get(reverse("accounts:detail", args=[account.pk]))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_unknown_account_is_404(client, specialist):
    client.force_login(specialist)
    assert client.get(reverse("accounts:detail", args=[999999])).status_code == 404


def test_my_day_lists_due_check_ins_most_overdue_first_and_open_follow_ups(
    client, specialist, django_assert_max_num_queries
):
    late, later, fine = (make_account(owner=specialist, display_name=n) for n in ("Late", "Later", "Fine"))
    make_check_in(late, days_ago=12)
    make_check_in(later, days_ago=9, follow_up="Send the clarification", follow_up_due=timezone.now().date())
    make_check_in(fine, days_ago=1)
    client.force_login(specialist)
    # session, user, roles, one query per My day panel
    with django_assert_max_num_queries(3 + len(panels_for(specialist))):
        response = client.get(reverse("home"))
    text = response.content.decode()
    assert text.index("Late") < text.index("Later")
    assert "Fine" not in text
    assert "Send the clarification" in text
    assert f"/accounts/{late.pk}/#log-check-in" in text


def test_header_search_opens_an_account_by_email_or_wallet(client, leader):
    account = make_account(email="desk@whale.example", wallets=[WALLET])
    client.force_login(leader)
    for query in ("desk@whale.example", WALLET, account.external_id):
        response = client.get(reverse("search"), {"q": query})
        assert response.status_code == 302 and response["Location"] == reverse(
            "accounts:detail", args=[account.pk]
        )


def test_product_cannot_find_accounts_through_search(client, product_person):
    make_account(email="desk@whale.example")
    client.force_login(product_person)
    response = client.get(reverse("search"), {"q": "desk@whale.example"})
    assert response.status_code == 200
    assert response.context["outcome"].total == 0
    assert "Nothing matched" in response.content.decode()
