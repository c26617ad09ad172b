"""The resolution radar in a real browser: a Specialist reads a heads-up on My day, opens the
market and finds the portfolio's holders, marks the accounts told with the message sent in
Intercom, then a case follows and its page and the market's radar link each other — at a laptop's
and a phone's width, with an accessibility scan."""

import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account, CheckIn, Exposure, Wallet, WalletPortfolio
from disputes.models import HeadsUp, Market, MarketSignal
from disputes.radar.fanout import radar_fan_out
from disputes.services.cases import dispute_file
from integrations.models import SyncJob
from portal.models import User
from portal.tests.browser import LAPTOP, PHONE, check_page, sign_in

CONDITION = "0x" + "cd" * 32


def heads_up_for(username: str) -> tuple[Account, Market]:
    owner = User.objects.get(username=username)
    account = Account.objects.filter(owner=owner).order_by("pk").first()
    wallet = account.wallets.first() or Wallet.objects.create(account=account, address="0x" + "e" * 40)
    market = Market.objects.order_by("pk").first()
    Market.objects.filter(pk=market.pk).update(condition_id=CONDITION, uma_status="disputed")
    now = timezone.now()
    WalletPortfolio.objects.update_or_create(wallet=wallet, defaults={"fetched_at": now, "attempted_at": now})
    Exposure.objects.create(
        account=account,
        wallet=wallet,
        condition_id=CONDITION,
        outcome="No",
        size=Decimal("250000"),
        current_value=Decimal("180000"),
        fetched_at=now,
    )
    signal = MarketSignal.objects.create(
        market=market, kind=MarketSignal.Kind.DISPUTED, key="uma:1", summary="disputed", detected_at=now
    )
    radar_fan_out(signal.pk)
    return account, market


def test_a_specialist_reads_a_heads_up_finds_the_holders_and_marks_it_told(demo, page):
    account, market = heads_up_for("specialist")
    heads_up = HeadsUp.objects.get(signal__market=market, owner=account.owner)
    sign_in(page, demo, "specialist")
    item = page.locator("li", has=page.locator(f"form[action$='/heads-ups/{heads_up.pk}/told/']"))
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(f"{demo.url}/")
        expect(item).to_contain_text("1 of your account")
        expect(item).to_contain_text("180,000 USDC")
        check_page(page, "radar-my-day", accessibility=viewport is LAPTOP)

    page.set_viewport_size(LAPTOP)
    item.get_by_role("link", name=market.question[:60], exact=False).click()
    holders = page.locator("section", has=page.get_by_role("heading", name=re.compile("Portfolio holders")))
    expect(holders.get_by_role("link", name=account.display_name)).to_be_visible()
    expect(holders).to_contain_text("180,000")
    check_page(page, "radar-market-holders")

    page.set_viewport_size(PHONE)
    page.goto(f"{demo.url}/")
    item.get_by_label("Told them by").select_option(label="Intercom")
    item.get_by_text("Send them a message in Intercom").click()
    expect(item.get_by_label("Message")).to_have_value(re.compile("was just disputed"))
    item.get_by_label("Send it in Intercom").check()
    check_page(page, "radar-told-message")
    item.get_by_role("button", name="Told them").click()
    expect(page.get_by_text("the message goes to it in Intercom")).to_be_visible()
    expect(page.locator(f"form[action$='/heads-ups/{heads_up.pk}/told/']")).to_have_count(0)
    check_page(page, "radar-told", accessibility=False)
    assert (
        CheckIn.objects.filter(account=account, kind=CheckIn.Kind.PROACTIVE, channel="intercom").count() == 1
    )
    assert SyncJob.objects.filter(
        kind=SyncJob.Kind.CONTACT_MESSAGE, key__endswith=f":account:{account.pk}"
    ).exists()

    case = dispute_file(
        by=account.owner,
        account=account,
        category="market_resolution",
        market=market,
        claim="Wrong proposal.",
    )
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto(f"{demo.url}/disputes/{case.reference}/")
        page.get_by_role("link", name="Disputed", exact=True).click()
        radar = page.locator("#radar")
        expect(radar).to_contain_text("Heads-up to")
        expect(radar.get_by_role("link", name=case.reference)).to_be_visible()
        check_page(page, "radar-market-radar", accessibility=viewport is LAPTOP)
