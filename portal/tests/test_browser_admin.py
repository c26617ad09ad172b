"""An Admin's program work in a real browser: change a tier's cadence and see the accounts' due
dates move; retry a change Intercom never took."""

import datetime as dt
import re

from playwright.sync_api import expect

from accounts.models import Account
from integrations.models import SyncJob
from portal.tests.browser import check_page, sign_in


def test_admin_changes_a_tiers_cadence_and_the_due_dates_move(demo, page):
    account = Account.objects.filter(status="active", next_check_in_due__isnull=False).order_by("pk").first()
    tier, due = account.tier, account.next_check_in_due
    sign_in(page, demo, "admin", "correct horse battery staple")
    page.locator("details.user-menu > summary").click()
    page.get_by_role("link", name="Program configuration (admin)").click()
    page.get_by_role("link", name="Tiers").click()
    page.get_by_role("link", name=tier.name, exact=True).click()
    cadence = page.get_by_label("Default cadence days")
    cadence.fill(str(tier.default_cadence_days + 7))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(
        page.get_by_text(re.compile(r"Cadence changed: \d+ account due date\(s\) recomputed"))
    ).to_be_visible()

    account.refresh_from_db()
    assert account.next_check_in_due == due + dt.timedelta(days=7)
    page.goto(f"{demo.url}/accounts/{account.pk}/")
    expect(page.get_by_text("Next check-in")).to_be_visible()
    check_page(page, "admin-account-after-cadence")


def test_admin_retries_a_dead_change_from_the_sync_page(demo, page):
    account = Account.objects.order_by("pk").first()
    SyncJob.objects.filter(key=f"account:{account.pk}").delete()  # no newer change to supersede it
    job = SyncJob.objects.create(
        kind=SyncJob.Kind.CONTACT_UPSERT,
        key=f"account:{account.pk}",
        payload={"email": account.email},
        payload_hash="0" * 64,
        status=SyncJob.Status.DEAD,
        attempts=12,
        last_error="HTTP 503 from Intercom",
    )
    sign_in(page, demo, "admin", "correct horse battery staple")
    page.locator("details.nav-more > summary").click()
    page.get_by_role("link", name="Sync").click()
    dead = page.get_by_role("region", name="Dead changes")
    expect(dead.get_by_text(f"account:{account.pk}")).to_be_visible()
    check_page(page, "admin-sync-with-a-dead-change")
    dead.get_by_role("row").filter(has_text=f"account:{account.pk}").get_by_role(
        "button", name="Retry"
    ).click()
    expect(page.get_by_text(f"contact.upsert for account:{account.pk} will be sent again.")).to_be_visible()
    job.refresh_from_db()
    assert job.status != SyncJob.Status.DEAD
