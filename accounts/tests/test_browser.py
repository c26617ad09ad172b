"""A Specialist's check-in in a real browser, by keyboard alone: from My day's overdue panel to
the account, the check-in form filled and sent without the mouse, and the account off the panel."""

import datetime as dt

import responses
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from accounts.services.wallet_data import wallet_portfolios_refresh
from accounts.tests.factories import DATA_API as BASE
from accounts.tests.factories import WHALE_WALLET as WHALE
from accounts.tests.factories import make_account
from accounts.tests.factories import recorded_data_api_page as envelope
from portal.roles import Role
from portal.tests.browser import PHONE, check_page, columns_cut, sign_in
from portal.tests.factories import UserFactory


def focused(page) -> dict:
    """The focused element: its label's text (or its own) and whether focus is drawn on it."""
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
          const label = e.labels && e.labels[0] ? e.labels[0].textContent.trim() : e.textContent.trim();
          return {label, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }"""
    )


def test_a_specialist_logs_a_check_in_by_keyboard_and_the_account_leaves_the_overdue_panel(demo, page):
    me = get_user_model().objects.get(username="specialist")
    account = Account.objects.filter(owner=me, status="active").order_by("pk").first()
    Account.objects.filter(pk=account.pk).update(next_check_in_due=timezone.now() - dt.timedelta(days=3))
    sign_in(page, demo, "specialist", "correct horse battery staple")
    overdue = page.locator("section[aria-labelledby='panel-accounts-overdue']")
    overdue.get_by_role("link", name=account.display_name).click()
    expect(page.get_by_role("heading", name="Log a check-in")).to_be_visible()

    for _ in range(80):  # from the top of the page, by Tab alone, to the form's first field
        page.keyboard.press("Tab")
        if focused(page)["label"].startswith("When"):
            break
    fields = []
    for _ in range(40):  # Tab through the form, acting on each field as focus reaches it
        state = focused(page)
        if not fields or fields[-1] != state["label"]:  # a date field takes a Tab per part
            fields.append(state["label"])
            if not state["label"].startswith(("When", "Follow-up due")):  # date parts hold focus
                assert state["outline"], f"no visible focus on {state['label']!r}"
            if state["label"].startswith("Summary"):
                page.keyboard.type("Walked through the new fee schedule; asked for the API limits.")
            elif state["label"].startswith("Follow-up due"):
                page.keyboard.type((timezone.localdate() + dt.timedelta(days=5)).strftime("%m%d%Y"))
            elif state["label"].startswith("Follow-up"):
                page.keyboard.type("Send the API limits table")
            elif state["label"] == "Log check-in":
                page.keyboard.press("Enter")
                break
        page.keyboard.press("Tab")
    assert [f.split(" ")[0] for f in fields[:5]] == ["When", "Kind", "Channel", "Sentiment", "Summary"]
    expect(page.get_by_text("Walked through the new fee schedule; asked for the API limits.")).to_be_visible()
    account.refresh_from_db()
    assert account.next_check_in_due > timezone.now()
    assert account.check_ins.filter(follow_up="Send the API limits table").exists()

    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="My day").click()
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    expect(
        page.locator("section[aria-labelledby='panel-accounts-overdue']").get_by_text(account.display_name)
    ).to_have_count(0)
    check_page(page, "specialist-my-day-after-check-in")


LAPTOP_1366 = {"width": 1366, "height": 768}


def test_a_whales_positions_fit_a_laptop_and_scroll_in_their_own_box_on_a_phone(in_browser, page, settings):
    """The recorded positions of a whale's wallet (integrations/tests/fixtures/polymarket): every
    column, P&L included, in view at 1,366 px."""
    settings.POLYMARKET_DATA_URL = BASE
    settings.POLYMARKET_DEMO_FIXTURES = False
    owner = UserFactory(username="kemi", first_name="Kemi", last_name="Eriksen", roles=[Role.SPECIALIST])
    account = make_account(owner=owner, display_name="Whale Trader", wallets=[WHALE])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as polymarket:
        polymarket.get(f"{BASE}/v2/positions", body=envelope("data_api_v2_positions.json"))
        polymarket.get(f"{BASE}/v2/value", body=envelope("data_api_v2_value.json"))
        wallet_portfolios_refresh(account_id=account.pk)
        page.set_viewport_size(LAPTOP_1366)
        sign_in(page, in_browser, "kemi")
        page.goto(f"{in_browser.url}/accounts/{account.pk}/")
        expect(page.get_by_role("columnheader", name="P&L (USD)")).to_be_visible()
        assert columns_cut(page) == []
        check_page(page, "specialist-account-wallet")
        page.set_viewport_size(PHONE)
        check_page(page, "specialist-account-wallet", accessibility=False)
