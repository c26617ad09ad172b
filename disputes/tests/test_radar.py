"""The resolution radar's signals and heads-ups: each market change that starts disputes is
detected once from a refresh (recorded Gamma payloads, changed as the market moves), each owner
of holding accounts gets one heads-up and one e-mail, and My day shows it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import make_account, make_exposure, specialist_user
from disputes.models import HeadsUp, MarketSignal
from disputes.radar.fanout import heads_ups_mail, radar_fan_out
from disputes.services import clarification_record, market_upsert_from_gamma
from disputes.tests.factories import gamma_market

pytestmark = pytest.mark.django_db
CONDITION = "0xeb8d50cefcb367c18d701a405db7e20426e2065580231a8cfa1b40fc453caf49"
OPEN = {
    "closed": False,
    "umaResolutionStatus": "",
    "umaResolutionStatuses": "[]",
    "outcomePrices": '["0.6", "0.4"]',
}
Kind = MarketSignal.Kind


def refresh(**changes):
    return market_upsert_from_gamma(data=gamma_market(**{**OPEN, **changes}), by=None).market


def kinds(market) -> list[tuple[str, str]]:
    return list(market.signals.order_by("pk").values_list("kind", "summary"))


def test_a_first_import_is_no_signal_and_each_uma_step_is_one():
    market = refresh()
    assert kinds(market) == []
    refresh(umaResolutionStatuses='["proposed"]')
    refresh(umaResolutionStatuses='["proposed"]')  # the hourly refresh sees it again
    refresh(umaResolutionStatuses='["proposed", "disputed"]')
    refresh(umaResolutionStatuses='["proposed", "disputed", "proposed", "disputed"]')
    assert kinds(market) == [
        (Kind.PROPOSED, "proposed for resolution"),
        (Kind.DISPUTED, "disputed"),
        (Kind.PROPOSED, "proposed for resolution"),
        (Kind.DISPUTED, "disputed a second time (to UMA's vote)"),
    ]


def test_new_rules_a_clarification_a_fifty_fifty_and_an_early_close_are_signals(specialist):
    market = refresh()
    first_version = market.current_version
    refresh(description="New rules: resolves by the exchange's closing print.")
    market.refresh_from_db()
    changed = market.signals.get(kind=Kind.RULES_CHANGED)
    assert changed.previous_version == first_version and changed.version == market.current_version
    clarification_record(
        market=market, by=specialist, text="Noon means 12:00 ET.", published_at=timezone.now()
    )
    clarified = market.signals.get(kind=Kind.CLARIFIED)
    assert clarified.version.number == 3 and clarified.previous_version.number == 2
    refresh(
        description="New rules: resolves by the exchange's closing print.",
        closed=True,
        umaResolutionStatus="resolved",
        outcomePrices='["0.5", "0.5"]',
        endDate=(timezone.now() + dt.timedelta(days=2)).isoformat(),
        closedTime=timezone.now().strftime("%Y-%m-%d %H:%M:%S+00"),
    )
    assert {k for k, _ in kinds(market)} >= {Kind.FIFTY_FIFTY, Kind.CLOSED_EARLY}
    count = market.signals.count()
    refresh(
        description="New rules: resolves by the exchange's closing print.",
        closed=True,
        umaResolutionStatus="resolved",
        outcomePrices='["0.5", "0.5"]',
    )
    assert market.signals.count() == count  # seen again: nothing new


def hold(account, outcome="No", size="1000", value="600"):
    make_exposure(account, CONDITION, outcome=outcome, size=size, value=value)


def test_each_owner_gets_one_heads_up_and_one_mail_and_a_seller_is_not_told():
    alice, bob = specialist_user(email="alice@example.com"), specialist_user(email="bob@example.com")
    carol = specialist_user(email="carol@example.com")
    hold(make_account(owner=alice, display_name="A1", wallets=["0x" + "1" * 40]), value="1000000")
    hold(
        make_account(owner=alice, display_name="A2", wallets=["0x" + "2" * 40]), outcome="Yes", value="200000"
    )
    hold(make_account(owner=bob, display_name="B1", wallets=["0x" + "3" * 40]))
    make_account(owner=carol, display_name="Sold out", wallets=["0x" + "4" * 40])  # no position now
    market = refresh()
    refresh(umaResolutionStatuses='["proposed", "disputed"]')
    signal = market.signals.get(kind=Kind.DISPUTED)
    mail.outbox.clear()

    assert radar_fan_out(signal.pk) == {"heads_ups": 2, "mailed": 2}
    assert radar_fan_out(signal.pk) == {"heads_ups": 2, "mailed": 0}  # a retry: nothing twice
    to_alice = HeadsUp.objects.get(owner=alice)
    assert to_alice.accounts == 2 and to_alice.total_value == Decimal("1200000")
    assert sorted(h["name"] for h in to_alice.holdings) == ["A1", "A2"]
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    alice_mail = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert "2 of your accounts" in alice_mail.subject and "just disputed" in alice_mail.subject
    assert "1,200,000 USDC" in alice_mail.body and "A1: 1000.000000 shares of No" in alice_mail.body
    assert not HeadsUp.objects.filter(owner=carol).exists()


def test_a_refused_mail_is_sent_on_the_next_run(monkeypatch):
    owner = specialist_user(email="dana@example.com")
    hold(make_account(owner=owner, wallets=["0x" + "5" * 40]))
    market = refresh()
    refresh(umaResolutionStatuses='["proposed"]')
    signal = market.signals.get()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert radar_fan_out(signal.pk)["mailed"] == 0
    monkeypatch.undo()
    assert heads_ups_mail(signal) == 1 and HeadsUp.objects.get().mailed_at is not None


def test_my_day_says_how_many_accounts_hold_what_in_which_market(client):
    owner = specialist_user(email="erin@example.com")
    hold(make_account(owner=owner, display_name="Whale", wallets=["0x" + "6" * 40]), value="1250000")
    market = refresh()
    refresh(umaResolutionStatuses='["proposed", "disputed"]')
    radar_fan_out(market.signals.get(kind=Kind.DISPUTED).pk)
    client.force_login(owner)
    page = client.get("/").content.decode()
    panel = page[page.index("Heads-up: markets your accounts hold") :]
    assert "1 of your account" in panel and "1,250,000 USDC" in panel and "just" in panel
    assert "Whale (No)" in panel and f'href="/disputes/markets/{market.pk}/"' in panel


def test_a_signal_detected_by_a_refresh_reaches_the_owner_once_committed(django_capture_on_commit_callbacks):
    owner = specialist_user(email="fay@example.com")
    hold(make_account(owner=owner, wallets=["0x" + "7" * 40]))
    refresh()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refresh(umaResolutionStatuses='["proposed"]')
    assert HeadsUp.objects.get().owner == owner and [m.to for m in mail.outbox] == [["fay@example.com"]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refresh(umaResolutionStatuses='["proposed"]')
    assert callbacks == [] and len(mail.outbox) == 1


def told_form(page: str, heads_up: HeadsUp) -> str:
    """The *Told them* form's action, as My day renders it."""
    import re

    match = re.search(rf'<form method="post" action="([^"]*/heads-ups/{heads_up.pk}/told/)"', page)
    assert match, "My day has no Told them form for the heads-up"
    return match[1]


def test_told_them_logs_one_proactive_check_in_per_account_once(client):
    from accounts.models import Account, CheckIn

    owner = specialist_user(email="gus@example.com")
    first = make_account(owner=owner, display_name="G1", wallets=["0x" + "8" * 40])
    second = make_account(owner=owner, display_name="G2", wallets=["0x" + "9" * 40])
    hold(first)
    hold(second)
    market = refresh()
    refresh(umaResolutionStatuses='["proposed"]')
    radar_fan_out(market.signals.get().pk)
    heads_up = HeadsUp.objects.get()
    client.force_login(owner)
    action = told_form(client.get("/").content.decode(), heads_up)

    response = client.post(action, {"channel": "intercom"}, follow=True)
    assert "Logged a proactive check-in on 2 accounts" in response.content.decode()
    logged = CheckIn.objects.filter(kind=CheckIn.Kind.PROACTIVE)
    assert sorted(logged.values_list("account__display_name", flat=True)) == ["G1", "G2"]
    assert "was just proposed for resolution" in logged.first().summary
    assert Account.objects.get(pk=first.pk).last_check_in_at is not None  # counts for the cadence
    assert "Heads-up: markets your accounts hold" not in response.content.decode()  # off My day

    again = client.post(action, {"channel": "intercom"}, follow=True)
    assert "nothing logged twice" in again.content.decode() and logged.count() == 2


def test_told_them_is_the_owners_and_refuses_bad_input(client, specialist):
    owner = specialist_user(email="hal@example.com")
    hold(make_account(owner=owner, wallets=["0x" + "a" * 40]))
    market = refresh()
    refresh(umaResolutionStatuses='["proposed"]')
    radar_fan_out(market.signals.get().pk)
    heads_up = HeadsUp.objects.get()
    client.force_login(owner)
    action = told_form(client.get("/").content.decode(), heads_up)
    assert client.get(action).status_code == 405
    bad = client.post(action, {"channel": "pigeon"}, follow=True)
    assert "Pick how you told them" in bad.content.decode()
    assert HeadsUp.objects.get().told_at is None
    client.force_login(specialist)  # another specialist
    assert client.post(action, {"channel": "call"}).status_code == 403
    assert HeadsUp.objects.get().told_at is None
    client.logout()
    assert client.post(action, {"channel": "call"}).status_code == 302  # to sign in
