import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.health import ComponentScore, HealthComponent, _components, register_health_component
from accounts.models import Account, CheckIn, HealthSnapshot
from accounts.services import account_update, cadence_daily_pass, health_refresh, overdue_digest_send
from accounts.tests.factories import make_account, make_check_in, specialist_user

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def test_recency_is_full_within_cadence_and_falls_to_zero_at_three_cadences():
    fresh, late, lost = make_account(), make_account(), make_account()
    make_check_in(fresh, days_ago=3)
    make_check_in(late, days_ago=14)  # two cadences of 7 days: halfway down
    make_check_in(lost, days_ago=25)
    scores = {
        a.pk: Account.objects.get(pk=a.pk).health_components["recency"]["score"] for a in (fresh, late, lost)
    }
    assert scores == {fresh.pk: 100, late.pk: 50, lost.pk: 0}


def test_negative_sentiment_and_a_worsening_trend_lower_the_score():
    account = make_account()
    make_check_in(account, days_ago=60, sentiment=CheckIn.Sentiment.POSITIVE)
    make_check_in(account, days_ago=50, sentiment=CheckIn.Sentiment.POSITIVE)
    make_check_in(account, days_ago=5, sentiment=CheckIn.Sentiment.NEGATIVE)
    part = Account.objects.get(pk=account.pk).health_components["sentiment"]
    # one in three negative (67), worsening (−15)
    assert part["score"] == 52
    assert "getting worse" in part["detail"]


def test_volume_trend_and_the_weighted_total():
    account = make_account(volume_30d_usd=Decimal("50000"), volume_prior_30d_usd=Decimal("100000"))
    make_check_in(account, days_ago=1, sentiment=CheckIn.Sentiment.NEUTRAL)
    account = Account.objects.get(pk=account.pk)
    parts = account.health_components
    assert parts["volume"]["score"] == 50 and "-50%" in parts["volume"]["detail"]
    assert parts["recency"]["score"] == 100 and parts["sentiment"]["score"] == 100
    # The disputes app adds "open disputes" (×20, 100 with none open).
    assert account.health_score == round((100 * 50 + 100 * 25 + 50 * 25 + 100 * 20) / 120)


def test_components_without_data_are_left_out_of_the_mean():
    account = make_account()  # no check-ins, no prior volume, just created
    account = Account.objects.get(pk=account.pk)
    assert account.health_components["volume"]["score"] is None
    assert account.health_score == account.health_components["recency"]["score"]


def test_a_registered_component_plugs_into_the_score():
    account = make_account()
    register_health_component(
        HealthComponent(
            "test_flags",
            "Test flags",
            50,
            lambda facts, now: {f.id: ComponentScore(0, "2 open") for f in facts},
        )
    )
    try:
        health_refresh(account_ids=[account.pk])
    finally:
        _components.pop("test_flags")
    account = Account.objects.get(pk=account.pk)
    assert account.health_components["test_flags"]["detail"] == "2 open"
    # recency 100 (×50), open disputes 100 (×20) and the test component 0 (×50)
    assert account.health_score == round((100 * 50 + 100 * 20) / 120)


def test_health_history_keeps_one_row_per_day(monkeypatch):
    # The account's creation stores today's snapshot with its own clock: a fixed noon keeps that
    # "today" and the test's `now` on one date (a UTC midnight in between would merge two rows).
    now = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    account = make_account()
    health_refresh(now=now - 2 * DAY)
    health_refresh(now=now - DAY)
    health_refresh(now=now - DAY)
    days = list(HealthSnapshot.objects.filter(account=account).values_list("day", flat=True))
    assert sorted(days) == [(now - 2 * DAY).date(), (now - DAY).date(), now.date()]


def test_daily_pass_mails_each_owner_one_digest_and_never_twice():
    alice, bob = specialist_user(email="alice@example.com"), specialist_user(email="bob@example.com")
    for owner in (alice, alice, bob):
        make_check_in(make_account(owner=owner), days_ago=10)  # Tier 1, 7 days: overdue
    make_check_in(make_account(owner=alice), days_ago=1)  # on track
    mail.outbox.clear()

    first = cadence_daily_pass()
    assert first["owners_mailed"] == 2 and first["accounts"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    alice_mail = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert alice_mail.subject == "2 accounts newly overdue for a check-in"

    mail.outbox.clear()
    second = cadence_daily_pass()
    assert mail.outbox == [] and second["accounts"] == 0


def test_a_pass_that_read_before_another_pass_mailed_sends_nothing(monkeypatch):
    """Two clusters run the daily pass at once: both read the same overdue accounts, the first
    marks and mails them; the second must find them marked, not mail the digest again."""
    from accounts.services import cadence

    owner = specialist_user(email="racer@example.com")
    make_check_in(make_account(owner=owner), days_ago=10)
    read_before = cadence._newly_overdue_by_owner(timezone.now())  # the second pass's read
    assert overdue_digest_send()["owners_mailed"] == 1  # the first pass
    mail.outbox.clear()
    monkeypatch.setattr(cadence, "_newly_overdue_by_owner", lambda now: read_before)
    assert overdue_digest_send() == {"owners_mailed": 0, "accounts": 0}
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_one_daily_pass_at_a_time_and_a_second_one_leaves_the_work_to_it(specialist):
    """Two at once rewrote the same accounts in different orders and deadlocked (found by the
    production rehearsal, three clusters on PostgreSQL). SQLite serialises writes: both run."""
    from django.db import connection, connections

    from accounts.services import cadence

    owner = specialist_user(email="sole@example.com")
    make_check_in(make_account(owner=owner), days_ago=10)
    mail.outbox.clear()
    if connection.vendor == "postgresql":
        holder = connections.create_connection("default")  # the other cluster's session
        try:
            with holder.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [cadence._CADENCE_PASS_LOCK_KEY])
            assert cadence_daily_pass() == {"skipped": "another cadence pass is running"}
            assert mail.outbox == []
        finally:
            with holder.cursor() as cursor:  # the other pass ends (closing the session would
                cursor.execute("SELECT pg_advisory_unlock_all()")  # release it a moment later)
            holder.close()
    assert cadence_daily_pass()["owners_mailed"] == 1 and len(mail.outbox) == 1


def test_an_account_overdue_again_after_a_new_check_in_is_in_a_later_digest():
    owner = specialist_user(email="owner@example.com")
    account = make_account(owner=owner)
    make_check_in(account, days_ago=10)
    overdue_digest_send()
    make_check_in(account, days_ago=8)  # newer, still overdue: a new due date
    mail.outbox.clear()
    overdue_digest_send()
    assert len(mail.outbox) == 1


def test_daily_pass_recomputes_due_dates_after_a_tier_cadence_change():
    account = make_account()
    check_in = make_check_in(account, days_ago=1)
    account.tier.default_cadence_days = 21
    account.tier.save()
    assert cadence_daily_pass()["due_dates_changed"] == 1
    assert Account.objects.get(pk=account.pk).next_check_in_due == check_in.occurred_at + 21 * DAY


def test_paused_accounts_leave_the_digest():
    owner = specialist_user(email="o@example.com")
    account = make_account(owner=owner)
    make_check_in(account, days_ago=10)
    account_update(account=account, by=owner, changes={"status": Account.Status.PAUSED})
    mail.outbox.clear()
    overdue_digest_send()
    assert mail.outbox == []
