"""The on-call Specialist on a phone: the link a page carries opens the escalation, one button
acknowledges it, and the page says paging has stopped."""

from playwright.sync_api import expect

from accounts.models import Account
from oncall.models import Escalation, Page
from oncall.services.escalations import escalation_raise
from oncall.tokens import ack_token
from portal.tests.browser import PHONE, check_page, sign_in


def test_the_on_call_specialist_acknowledges_from_the_link_on_a_phone(demo, page):
    account = Account.objects.order_by("pk").first()
    escalation, _ = escalation_raise(
        by=account.owner, severity="sev1", summary="Whale cannot withdraw", account=account
    )
    paged = Page.objects.filter(escalation=escalation).select_related("recipient").order_by("pk").first()
    assert paged is not None, "the demo rota pages someone"
    page.set_viewport_size(PHONE)
    sign_in(page, demo, paged.recipient.username, "correct horse battery staple")
    page.goto(f"{demo.url}/oncall/ack/{ack_token(escalation_id=escalation.pk, page_id=paged.pk)}/")
    expect(page.get_by_text("Whale cannot withdraw").first).to_be_visible()
    check_page(page, "oncall-acknowledge")

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("paging has stopped")
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ACKNOWLEDGED
    assert escalation.acknowledged_by == paged.recipient
