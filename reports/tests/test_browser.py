"""Leadership's reports in a real browser: open them, change the period, follow a number to its
rows and download them; accessible and without sideways scrolling on a laptop and a phone."""

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import make_account
from portal.roles import Role
from portal.tests.browser import LAPTOP, PHONE, check_page, sign_in
from portal.tests.factories import UserFactory
from reports.tests.factories import clock_row, conversation_row
from support.models import SlaPolicy
from support.tests.factories import only_policy


@pytest.fixture
def history(in_browser):
    """A week of rated, timed conversations, and someone from Leadership to read them."""
    specialist = UserFactory(username="spec", first_name="Sam", last_name="Park", roles=[Role.SPECIALIST])
    policy = SlaPolicy.objects.first() or only_policy()
    account = make_account(owner=specialist)
    now = timezone.now()
    for day in range(1, 6):
        when = now - dt.timedelta(days=day)
        conversation = conversation_row(
            account=account, assignee=specialist, closed=when, rating=1 + day % 5, rated=when
        )
        clock_row(policy=policy, conversation=conversation, achieved=when, wall=600 * day)
    return UserFactory(username="lead", first_name="Lee", last_name="Dunn", roles=[Role.LEADERSHIP])


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_leadership_reads_the_reports_drills_down_and_downloads_the_rows(history, in_browser, page, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, in_browser, history.username)
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_role("heading", name="Customer satisfaction")).to_be_visible()
    check_page(page, "reports")

    page.get_by_label("Period", exact=True).select_option("90d")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-period")).to_contain_text("Last 90 days")
    assert "range=90d" in page.url

    page.locator("a[href*='/reports/rows/rated-conversations/']").first.click()
    expect(page.get_by_role("heading", name="Rated conversations")).to_be_visible()
    check_page(page, "reports-rated-conversations")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["conversation", "title"]
    assert len(rows) == 1 + 5  # the five rated conversations of the week


def test_leadership_is_refused_a_change(history, in_browser, page):
    sign_in(page, in_browser, history.username)
    response = page.goto(f"{in_browser.url}/accounts/new/")
    assert response.status == 403
    expect(page.get_by_text(re.compile("permission|not allowed|role", re.IGNORECASE)).first).to_be_visible()
