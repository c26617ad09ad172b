"""Product's feedback work in a real browser: triage an item, merge a duplicate into it."""

import re

from playwright.sync_api import expect

from feedback.models import FeedbackItem
from portal.tests.browser import check_page, sign_in


def test_product_triages_an_item_and_merges_a_duplicate_into_it(demo, page):
    target, duplicate = FeedbackItem.objects.exclude(status="duplicate").order_by("pk")[:2]
    sign_in(page, demo, "product", "correct horse battery staple")
    page.get_by_role("link", name="Feedback", exact=True).click()
    page.get_by_role("link", name=target.title).first.click()
    expect(page.get_by_role("heading", name=f"#{target.pk} {target.title}")).to_be_visible()

    page.get_by_label("Status", exact=True).select_option("planned")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".page-header .badge").first).to_have_text("Planned")
    target.refresh_from_db()
    assert target.status == "planned"

    page.goto(f"{demo.url}/feedback/{duplicate.pk}/")
    page.get_by_label("Merge into item #").fill(str(target.pk))
    page.get_by_role("button", name="Merge into it").click()
    expect(page).to_have_url(re.compile(rf"/feedback/{target.pk}/$"))
    expect(page.get_by_text(f"Merged into #{target.pk}.")).to_be_visible()
    check_page(page, "product-feedback-merged")
    duplicate.refresh_from_db()
    assert duplicate.status == "duplicate" and duplicate.duplicate_of_id == target.pk
