"""Frozen weeks in a real browser, over the demo's frozen history. Leadership opens them from the
reports page, reads the trends and the latest week as it was frozen, and downloads its figures;
an Admin recomputes a week (refused without a reason, kept beside the old snapshot with one), and
looks after the weekly e-mail: an added address, a wrong one refused, one removed, and a send
that was given up sent again. Each page on a laptop and on a phone."""

import csv
import io
import re

from django.utils import timezone
from playwright.sync_api import expect

from portal.models import User
from portal.tests.browser import LAPTOP, PHONE, check_page, open_from_nav, sign_in
from reports.models import MetricSnapshot, WeeklyMail, WeeklyMailRecipient
from reports.weekly.freezing import last_finished_week, weeks_backfill


def frozen_weeks() -> list[MetricSnapshot]:
    """The current snapshots, newest first: the demo's frozen history (frozen here when a demo
    without history left none)."""
    if not MetricSnapshot.objects.exists():
        weeks_backfill(3)
    weeks = list(MetricSnapshot.objects.filter(replaced_at__isnull=True).order_by("-week"))
    assert weeks[0].week == last_finished_week(), "the last finished week is frozen"
    return weeks


def day(monday) -> str:
    """A week as the pages name it: `4 May 2026`."""
    return f"{monday.day} {monday:%b %Y}"


def messages(page):
    return page.locator("ul.messages")


def both_widths(page, name: str) -> None:
    """check_page on a laptop, then on a phone (axe once: the page is the same), then back."""
    page.set_viewport_size(LAPTOP)
    check_page(page, name)
    page.set_viewport_size(PHONE)
    check_page(page, name, accessibility=False)
    page.set_viewport_size(LAPTOP)


def open_weeks(page) -> None:
    open_from_nav(page, "Reports")
    page.get_by_role("link", name="Frozen weeks", exact=True).click()
    expect(page.get_by_role("heading", name="Frozen weeks", level=1)).to_be_visible()


def test_leadership_reads_the_frozen_weeks_and_downloads_the_latest(demo, page):
    weeks = frozen_weeks()
    latest = weeks[0]
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, "leadership")
    open_weeks(page)

    table = page.get_by_role("region", name="Frozen weeks")
    expect(table.locator("tbody tr")).to_have_count(len(weeks))
    expect(table.locator("tbody tr td:first-child")).to_have_text([day(s.week) for s in weeks])
    expect(page.get_by_role("heading", name=f"The last {len(weeks)} weeks")).to_be_visible()
    charts = page.locator(".report-chart")
    lead_figures = sum(1 for item in latest.headline.values() if item.get("lead"))
    expect(charts).to_have_count(lead_figures)
    expect(charts.first.locator("svg")).to_be_visible()
    numbers = page.get_by_role("region", name=re.compile(": the numbers$")).first
    expect(numbers.locator("tbody tr")).to_have_count(len(weeks))  # one row a week, oldest first
    expect(numbers.locator("tbody th").last).to_have_text(f"{latest.week.day} {latest.week:%b}")
    # The walk (portal/tests/test_browser_pages.py) checks this page and the week's at both widths.

    table.get_by_role("link", name=day(latest.week)).click()
    expect(page.get_by_role("heading", name=f"Week of {day(latest.week)}", level=1)).to_be_visible()
    expect(page.locator(".report-period")).to_contain_text("As frozen")
    expect(page.locator(".report-period")).to_contain_text("by the schedule")
    titles = [section["title"] for section in latest.sections]
    assert titles, "the week has sections"
    expect(page.locator("section.report-section > h2")).to_have_text(titles)
    expect(page.get_by_role("heading", name="Since it was frozen")).to_be_visible()
    expect(page.get_by_role("link", name="Recompute")).to_have_count(0)  # an Admin's act only

    with page.expect_download() as download:
        page.get_by_role("link", name="Download (CSV)").click()
    assert download.value.suggested_filename == f"support-week-{latest.week.isoformat()}.csv"
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["section", "metric", "period", "value"]
    figures = [(s["title"], f["label"]) for s in latest.sections for f in s["figures"]]
    assert [(row[0], row[1]) for row in rows[1 : len(figures) + 1]] == figures
    assert any(row[3] not in ("", "—") for row in rows[1:]), "some figure has a value"
    assert all(": " in row[1] for row in rows[len(figures) + 1 :]), "then the breakdowns' cells"


def test_an_admin_recomputes_a_week_with_a_reason(demo, page):
    latest = frozen_weeks()[0]
    monday = latest.week
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, "admin")
    page.goto(f"{demo.url}/reports/weeks/")
    page.get_by_role("region", name="Frozen weeks").get_by_role("link", name=day(monday)).click()
    page.get_by_role("link", name="Recompute").click()
    expect(page.get_by_role("heading", name=f"Recompute the week of {day(monday)}?")).to_be_visible()
    both_widths(page, "reports-week-recompute")

    page.get_by_role("button", name="Recompute the week").click()
    expect(page.locator(".form-row--error")).to_contain_text("This field is required.")
    expect(page.get_by_role("heading", name=f"Recompute the week of {day(monday)}?")).to_be_visible()
    assert MetricSnapshot.objects.filter(week=monday).count() == 1
    check_page(page, "reports-week-recompute-refused")

    reason = "A late import of Friday's conversations"
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Recompute the week").click()
    expect(page.get_by_role("heading", name=f"Week of {day(monday)}", level=1)).to_be_visible()
    expect(messages(page)).to_contain_text(f"The week of {day(monday)} is counted again")
    admin = User.objects.get(username="admin")
    by = admin.get_full_name() or admin.username
    expect(page.locator(".report-period")).to_contain_text(f"by {by} ({reason})")
    expect(page.get_by_role("heading", name="Earlier snapshots of this week")).to_be_visible()
    earlier = page.locator("#changes-heading ~ ul.item-list li")
    expect(earlier).to_have_count(1)
    expect(earlier).to_contain_text("by the schedule, replaced")
    page.set_viewport_size(PHONE)  # an Admin's week: three buttons above it, the earlier snapshot
    check_page(page, "reports-week-recomputed")

    snapshots = MetricSnapshot.objects.filter(week=monday)
    assert snapshots.count() == 2
    current = snapshots.get(replaced_at__isnull=True)
    assert (current.made_by, current.reason) == (admin, reason)
    assert snapshots.get(replaced_at__isnull=False).pk == latest.pk


def test_an_admin_manages_the_weekly_mail_recipients_and_sends_again(demo, page):
    latest = frozen_weeks()[0]
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, "admin")
    page.goto(f"{demo.url}/reports/weeks/")
    address = page.get_by_label("Also send it to")

    address.fill("board@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(messages(page)).to_contain_text("board@example.com gets the weekly e-mail from next week.")
    listed = page.locator("#mail-heading ~ ul.item-list li")
    expect(listed.filter(has_text="board@example.com")).to_have_count(1)
    assert WeeklyMailRecipient.objects.filter(email="board@example.com").exists()

    address.fill("not an address")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".form-row--error")).to_contain_text("Enter a valid email address.")
    assert list(WeeklyMailRecipient.objects.values_list("email", flat=True)) == ["board@example.com"]

    page.get_by_role("button", name="Remove board@example.com").click()
    expect(messages(page)).to_contain_text("board@example.com no longer gets the weekly e-mail.")
    expect(listed.filter(has_text="board@example.com")).to_have_count(0)
    assert not WeeklyMailRecipient.objects.exists()

    mail = WeeklyMail.objects.create(
        week=latest.week,
        email="cfo@example.com",
        status=WeeklyMail.Status.DEAD,
        attempts=8,
        last_error="SMTP 550: mailbox unavailable",
        next_attempt_at=timezone.now(),
    )
    page.reload()
    expect(page.get_by_role("heading", name="Not sent")).to_be_visible()
    row = page.get_by_role("region", name="Weekly e-mails not sent").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(day(latest.week))
    expect(row).to_contain_text("cfo@example.com")
    expect(row).to_contain_text("Failed (gave up)")
    expect(row).to_contain_text("SMTP 550: mailbox unavailable")
    both_widths(page, "reports-weeks-admin")

    row.get_by_role("button", name="Send again to cfo@example.com").click()
    expect(messages(page)).to_contain_text(
        f"The e-mail to cfo@example.com for the week of {latest.week.day} {latest.week:%b} is sent again"
    )
    expect(page.get_by_role("heading", name="Not sent")).to_have_count(0)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (WeeklyMail.Status.PENDING, 0)
