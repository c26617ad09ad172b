"""Cases that follow a heads-up: linked when filed about the market by an account the heads-up
named (within 30 days), shown on the case page and the market's radar, which link each other,
and counted by the disputes report."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from disputes.models import DisputeCase, HeadsUp
from disputes.radar.fanout import radar_fan_out
from disputes.services.cases import dispute_file
from disputes.tests.test_radar import hold, refresh
from reports.metrics import disputes as dispute_report
from reports.metrics.base import ReportContext
from reports.periods import last_days

pytestmark = pytest.mark.django_db


def file(account, market) -> DisputeCase:
    return dispute_file(
        by=account.owner,
        account=account,
        category=DisputeCase.Category.MARKET_RESOLUTION,
        market=market,
        claim="The proposal is wrong.",
    )


@pytest.fixture
def warned():
    """An owner warned about a disputed market held by one of their two accounts."""
    owner = specialist_user(email="jo@example.com")
    holder = make_account(owner=owner, display_name="Holder", wallets=["0x" + "d" * 40])
    bystander = make_account(owner=owner, display_name="Bystander", wallets=["0x" + "e" * 40])
    hold(holder)
    refresh()
    market = refresh(umaResolutionStatuses='["proposed", "disputed"]')
    for signal in market.signals.all():
        radar_fan_out(signal.pk)
    return market, holder, bystander


def test_a_case_by_an_account_the_heads_up_named_follows_it(warned):
    market, holder, bystander = warned
    newest = HeadsUp.objects.order_by("-created_at", "-pk").first()
    assert file(holder, market).heads_up == newest
    assert file(bystander, market).heads_up is None  # not named: the heads-up was not about it


def test_a_case_before_the_heads_up_or_a_month_after_does_not_follow_it(warned, monkeypatch):
    market, holder, _ = warned
    HeadsUp.objects.update(created_at=timezone.now() + dt.timedelta(minutes=5))
    assert file(holder, market).heads_up is None
    HeadsUp.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    assert file(holder, market).heads_up is None


def test_the_case_page_and_the_markets_radar_link_each_other(client, warned):
    market, holder, _ = warned
    case = file(holder, market)
    client.force_login(holder.owner)
    market_page = client.get(f"/disputes/markets/{market.pk}/").content.decode()
    assert "Radar: changes that start disputes" in market_page and "UMA dispute" in market_page
    case_link = re.search(r'<a href="([^"]+)">' + case.reference + "</a>", market_page)
    assert case_link, "the market's heads-up does not link the case that followed"

    case_page = client.get(case_link[1]).content.decode()
    assert "Heads-up before" in case_page
    back = re.search(r'<dt>Heads-up before</dt><dd><a href="([^"#]+)#heads-up-(\d+)"', case_page)
    assert back and int(back[2]) == case.heads_up_id
    again = client.get(back[1]).content.decode()
    assert f'id="heads-up-{case.heads_up_id}"' in again


def test_the_market_page_costs_the_same_with_more_signals_heads_ups_and_cases(
    client, warned, django_assert_max_num_queries
):
    market, holder, _ = warned
    file(holder, market)  # the case table has rows either way
    client.force_login(holder.owner)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/disputes/markets/{market.pk}/")
    for i in range(4):
        other = specialist_user(email=f"owner{i}@example.com")
        hold(make_account(owner=other, wallets=[f"0x{i:040x}"]))
    refresh(umaResolutionStatuses='["proposed", "disputed", "proposed", "disputed"]')
    for signal in market.signals.all():
        radar_fan_out(signal.pk)
    for _ in range(3):
        file(holder, market)
    assert HeadsUp.objects.count() > 2
    with django_assert_max_num_queries(len(few)):
        client.get(f"/disputes/markets/{market.pk}/")


def test_the_disputes_report_counts_the_cases_after_a_heads_up(warned):
    market, holder, bystander = warned
    file(holder, market)
    file(bystander, market)
    period = last_days(7, today=timezone.localdate(), tz=timezone.get_current_timezone())
    section = dispute_report.build(ReportContext(period=period, previous=period.previous()))
    after = next(f for f in section.figures if f.key == "after_heads_up")
    assert (after.value, after.previous, after.sample) == (1, 0, 2)


def test_the_heads_up_mail_shows_what_changed_in_the_rules_as_plain_text(client):
    from django.core import mail

    owner = specialist_user(email="kit@example.com")
    hold(make_account(owner=owner, wallets=["0x" + "f" * 40]))
    market = refresh(question="Fed & ECB: both cut?", description="Resolves Yes if both cut.")
    refresh(question="Fed & ECB: both cut?", description="Resolves Yes if both cut by 50 bps.")
    signal = market.signals.get(kind="rules_changed")
    mail.outbox.clear()
    radar_fan_out(signal.pk)
    [sent] = mail.outbox
    assert "Fed & ECB" in sent.subject and "Fed & ECB" in sent.body  # plain text: not &amp;
    assert "-Resolves Yes if both cut." in sent.body and "+Resolves Yes if both cut by 50 bps." in sent.body
    numbers = f"from={signal.previous_version.number}&to={signal.version.number}"
    assert f"/disputes/markets/{market.pk}/diff/?{numbers}" in sent.body
    side_by_side = re.search(r"Side by side: https?://[^/]+(/\S+)", sent.body)[1]
    client.force_login(owner)
    page = client.get(side_by_side)
    assert page.status_code == 200 and "50 bps" in page.content.decode()
