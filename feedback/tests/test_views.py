"""Feedback pages: the log, the board, quick capture, triage by role, merge, follow-ups."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account
from feedback import services
from feedback.models import FeedbackItem, FollowUp
from feedback.tests.factories import FeedbackItemFactory
from portal.tests.pages import form_on, link_to, submit

pytestmark = pytest.mark.django_db


def test_list_sorts_by_impact_filters_exports_and_keeps_queries_flat(
    client, specialist, django_assert_max_num_queries
):
    small = make_account(owner=specialist, volume_30d_usd=Decimal("10"))
    big = make_account(owner=specialist, volume_30d_usd=Decimal("1000000"))
    low = FeedbackItemFactory(created_by=specialist, title="Low impact", account=small)
    high = FeedbackItemFactory(created_by=specialist, title="High impact", account=big, category="bug")
    FeedbackItemFactory.create_batch(30, created_by=specialist)
    client.force_login(specialist)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("feedback:list")).content.decode()
    assert page.index("High impact") < page.index("Low impact")
    with django_assert_max_num_queries(10):
        client.get(reverse("feedback:list"), {"per_page": 100})
    bugs = client.get(reverse("feedback:list"), {"category": "bug"}).content.decode()
    assert "High impact" in bugs and "Low impact" not in bugs
    assert "High impact" in client.get(reverse("feedback:list"), {"q": f"#{high.pk}"}).content.decode()
    assert client.get(reverse("feedback:list"), {"status": "bogus"}).status_code == 400
    assert low.pk


def _exported(client, listing) -> list[list[str]]:
    response = client.get(link_to(listing, "Export CSV"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1:]


def test_the_export_csv_link_downloads_what_the_log_shows(client, specialist, product_person):
    big = make_account(owner=specialist, volume_30d_usd=Decimal("1000000"))
    high = FeedbackItemFactory(created_by=specialist, title="High impact", account=big, category="bug")
    FeedbackItemFactory(created_by=specialist, title="Low impact", category="fees")
    FeedbackItemFactory(created_by=specialist, title="Fees are unclear")
    client.force_login(product_person)
    page = client.get(reverse("feedback:list"))
    rows = _exported(client, page)
    assert rows[0][:2] == [str(high.pk), "High impact"] and len(rows) == 3

    bugs = submit(client, form_on(page, has_field="q", action=""), category="bug")
    assert [row[:2] for row in _exported(client, bugs)] == [[str(high.pk), "High impact"]]
    searched = submit(client, form_on(page, has_field="q", action=""), q="fees")
    assert {row[1] for row in _exported(client, searched)} == {"Fees are unclear"}


def test_product_sees_names_tiers_and_volumes_but_no_emails_or_wallets(client, specialist, product_person):
    account = make_account(
        owner=specialist, email="secret@example.com", wallets=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]
    )
    item = FeedbackItemFactory(created_by=specialist, account=account, note="Asked twice")
    client.force_login(product_person)
    page = client.get(reverse("feedback:detail", args=[item.pk])).content.decode()
    assert account.display_name in page and account.tier.name in page and "Asked twice" in page
    assert "secret@example.com" not in page and "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed" not in page.lower()
    assert f"/accounts/{account.pk}/" not in page  # no link to a page Product may not open


def test_quick_capture_finds_existing_items_and_links_the_account(client, specialist):
    existing = FeedbackItemFactory(created_by=specialist, title="Withdrawals to Coinbase are slow")
    account = make_account(owner=specialist)
    client.force_login(specialist)
    page = client.get(
        reverse("feedback:new"), {"account": account.email, "q": "withdrawals"}
    ).content.decode()
    assert existing.title in page and "Link the account to this" in page
    response = client.post(
        reverse("feedback:link", args=[existing.pk]), {"account": account.email, "note": "Waited 3 days"}
    )
    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.impact_accounts == 1
    again = client.post(reverse("feedback:link", args=[existing.pk]), {"account": account.email})
    assert again.status_code == 400 and "already linked" in again.content.decode()


def test_new_item_from_a_page_and_bad_input(client, specialist):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    empty = client.post(reverse("feedback:new"), {"title": "", "category": "fees", "severity": "minor"})
    assert empty.status_code == 400 and not FeedbackItem.objects.exists()
    unknown = client.post(
        reverse("feedback:new"),
        {"title": "T", "category": "fees", "severity": "minor", "account": "nobody@x.org"},
    )
    assert unknown.status_code == 400 and "No single account" in unknown.content.decode()
    bad_case = client.post(
        reverse("feedback:new"),
        {"title": "T", "category": "fees", "severity": "minor", "dispute_case": "DSP-2026-99999"},
    )
    assert bad_case.status_code == 400 and "No case has that reference" in bad_case.content.decode()
    ok = client.post(
        reverse("feedback:new"),
        {
            "title": "Dark mode",
            "category": "feature",
            "severity": "minor",
            "account": account.email,
            "note": "asked",
        },
    )
    assert ok.status_code == 302 and FeedbackItem.objects.get().impact_accounts == 1


def test_triage_is_product_work_and_merge_refuses_loops(client, specialist, product_person):
    item = FeedbackItemFactory(created_by=specialist)
    other = FeedbackItemFactory(created_by=specialist, title="Other")
    client.force_login(specialist)
    assert (
        client.post(
            reverse("feedback:triage", args=[item.pk]),
            {"status": "planned", "owner_team": "product", "severity": "minor"},
        ).status_code
        == 403
    )
    client.force_login(product_person)
    response = client.post(
        reverse("feedback:triage", args=[item.pk]),
        {
            "status": "planned",
            "owner_team": "engineering",
            "severity": "major",
            "tracker_url": "https://linear.app/x/1",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.owner_team, item.severity) == ("planned", "engineering", "major")
    self_merge = client.post(reverse("feedback:merge", args=[item.pk]), {"into": item.pk})
    assert self_merge.status_code == 400 and "into itself" in self_merge.content.decode()
    assert client.post(reverse("feedback:merge", args=[other.pk]), {"into": item.pk}).status_code == 302
    loop = client.post(reverse("feedback:merge", args=[item.pk]), {"into": other.pk})
    assert loop.status_code == 400
    missing = client.post(reverse("feedback:merge", args=[item.pk]), {"into": 99999999})
    assert missing.status_code == 400 and "No feedback item has that number" in missing.content.decode()


def test_board_caps_columns_and_links_to_the_rest(client, specialist, django_assert_max_num_queries):
    FeedbackItemFactory.create_batch(30, created_by=specialist)
    client.force_login(specialist)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("feedback:board")).content.decode()
    assert "All 30 →" in page and page.count("#") >= 25


def test_follow_up_on_my_day_and_done(client, specialist, product_person):
    account = make_account(owner=specialist)
    item = FeedbackItemFactory(created_by=specialist, title="Export trades as CSV", account=account)
    services.item_triage(item=item, by=product_person, status="shipped")
    client.force_login(specialist)
    page = client.get(reverse("home")).content.decode()
    assert "Export trades as CSV" in page and "Told them" in page
    follow_up = FollowUp.objects.get()
    response = client.post(reverse("feedback:follow_up_done", args=[follow_up.pk]), {"next": "/"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None and follow_up.check_in.kind == "follow_up"


def test_detail_queries_do_not_grow_with_linked_accounts(client, specialist, django_assert_max_num_queries):
    item = FeedbackItemFactory(created_by=specialist)
    for _ in range(3):
        services.source_link(item=item, account=make_account(owner=specialist), by=specialist)
    client.force_login(specialist)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("feedback:detail", args=[item.pk]))
    for _ in range(40):
        services.source_link(item=item, account=make_account(owner=specialist), by=specialist)
    with django_assert_max_num_queries(14) as many:
        page = client.get(reverse("feedback:detail", args=[item.pk])).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert page.count("/unlink/") == 43 and "newest 50 of" not in page


def test_board_shows_shipped_and_declined_columns_too(client, specialist, product_person):
    shipped = FeedbackItemFactory(created_by=specialist, title="Shipped thing")
    services.item_triage(item=shipped, by=product_person, status="shipped")
    client.force_login(product_person)
    board = client.get(reverse("feedback:board")).content.decode()
    assert "Shipped thing" in board
    assert (
        "Shipped thing" not in client.get(reverse("feedback:list")).content.decode()
    )  # the log shows open items
