"""The weekly feedback digest: content, who gets it, once per ISO week."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from accounts.models import Tier
from accounts.tests.factories import make_account
from feedback import services
from feedback.digest import digest_build, iso_week, weekly_digest_send
from feedback.models import DigestRun, FeedbackItem
from feedback.tasks import weekly_digest
from feedback.tests.factories import FeedbackItemFactory, FeedbackSourceFactory
from portal.roles import Role
from portal.schedules import SCHEDULES
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BASE = "https://portal.example.org"
# A Wednesday noon: the middle of its ISO week in every time zone, so "the same week" (a run and
# one 5 minutes later, two task runs, the week a test computes and the week the run computed)
# never straddles the Sunday/Monday midnight the digest's idempotency turns on.
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.PORTAL_BASE_URL = BASE


def _item(by, title, *, days_ago=0, account=None, **kwargs):
    item = FeedbackItemFactory(created_by=by, title=title, account=account, **kwargs)
    if days_ago:
        FeedbackItem.objects.filter(pk=item.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago)
        )
        item.refresh_from_db()
    return item


def _link(item, by, volume, *, rank=1, days_ago=0.5):
    account = make_account(owner=by, tier_rank=rank, volume_30d_usd=Decimal(volume))
    FeedbackSourceFactory(
        item=item, account=account, added_by=by, said_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    return account


@pytest.fixture
def week(specialist, product_person):
    """A week of feedback: one new item, an older one that gained accounts, two waiting on
    triage (one of them old and triaged meanwhile), and a merged duplicate."""
    whale = make_account(owner=specialist, volume_30d_usd=Decimal("250000"))
    new = _item(specialist, "Show the total fee before confirming", account=whale)
    mover = _item(specialist, "Higher API rate limits for market makers", days_ago=40)
    services.item_triage(item=mover, by=product_person, status="planned")
    _link(mover, specialist, "100000", rank=1)
    _link(mover, specialist, "5000", rank=3)
    _link(mover, specialist, "7000", rank=2, days_ago=9)  # before the window: not growth
    waiting_old = _item(specialist, "Withdrawals take hours at peak times", days_ago=30)
    waiting = _item(specialist, "Resolution source unclear for the CPI markets", days_ago=8)
    triaged = _item(specialist, "Neg-risk conversion needs an explanation", days_ago=20)
    services.item_triage(item=triaged, by=product_person, status="triaged")
    dup = _item(specialist, "Fees shown only after the fill")
    services.item_merge(item=dup, into=new, by=specialist)
    return {"new": new, "mover": mover, "waiting_old": waiting_old, "waiting": waiting, "dup": dup}


def test_the_digest_counts_new_items_movers_and_items_waiting_on_triage(week):
    digest = digest_build(now=timezone.now())
    assert digest.new_count == 1 and digest.new_top == [week["new"]]  # the duplicate is left out
    assert [m.pk for m in digest.movers] == [week["mover"].pk]
    mover = digest.movers[0]
    w1, w3 = Tier.objects.get(rank=1).weight, Tier.objects.get(rank=3).weight
    assert mover.growth == (Decimal("100000") * w1 + Decimal("5000") * w3).quantize(Decimal("0.01"))
    assert mover.accounts_added == 2 and mover.status == "Planned"
    assert digest.waiting_count == 2
    assert digest.waiting_oldest == [week["waiting_old"], week["waiting"]]  # oldest first
    assert not digest.is_empty


def test_only_active_product_people_with_an_address_get_it(week, specialist, leader, portal_admin):
    UserFactory(username="prod2", roles=[Role.PRODUCT])
    UserFactory(username="prod-gone", roles=[Role.PRODUCT], is_active=False)
    UserFactory(username="prod-no-mail", roles=[Role.PRODUCT], email="")
    mail.outbox.clear()

    result = weekly_digest_send()

    assert sorted(m.to[0] for m in mail.outbox) == ["prod2@example.com", "prod@example.com"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)  # nobody sees the others
    assert result["sent"] == 2 and result["new"] == 1 and result["waiting"] == 2
    run = DigestRun.objects.get()
    assert run.week == iso_week(timezone.now()) and run.recipients == 2


def test_plain_text_and_html_bodies_link_to_the_portal(week):
    week["new"].title = "Fees <b>before</b> confirming & more"
    week["new"].save(update_fields=["title"])
    weekly_digest_send()
    message = mail.outbox[-1]
    assert message.subject == f"Feedback digest {iso_week(timezone.now())}: 1 new, 2 waiting on triage"
    text = message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for item in ("new", "mover", "waiting_old", "waiting"):
        link = f"{BASE}/feedback/{week[item].pk}/"
        assert link in text and f'href="{link}"' in html
    assert f"{BASE}/feedback/?status=new&sort=created_at" in text
    assert "Fees <b>before</b> confirming & more" in text  # plain text is not escaped
    assert "Fees &lt;b&gt;before&lt;/b&gt; confirming &amp; more" in html  # HTML is
    assert "NEW ITEMS: 1" in text and "WAITING ON TRIAGE FOR MORE THAN 7 DAYS: 2" in text
    assert "Higher API rate limits for market makers" in text and "from 2 accounts" in text
    assert week["dup"].title not in text
    assert "Neg-risk conversion" not in text  # triaged: not waiting


def test_a_second_run_the_same_week_sends_nothing_and_the_next_week_sends_again(week):
    now = timezone.now()
    first = weekly_digest_send(now=now)
    assert first["sent"] == 1 and len(mail.outbox) == 1
    second = weekly_digest_send(now=now + dt.timedelta(minutes=5))
    assert second["sent"] == 0 and "already sent" in second["reason"]
    assert len(mail.outbox) == 1 and DigestRun.objects.count() == 1

    third = weekly_digest_send(now=now + dt.timedelta(days=7))
    assert third["sent"] == 1 and len(mail.outbox) == 2
    assert DigestRun.objects.count() == 2


def test_a_quiet_week_still_gets_a_short_nothing_new_mail(product_person):
    weekly_digest_send()
    (message,) = mail.outbox
    assert message.subject.endswith(": nothing new")
    assert "Nothing new this week" in message.body and "Nothing new this week" in message.alternatives[0][0]
    assert "NEW ITEMS" not in message.body
    assert f"{BASE}/feedback/" in message.body


def test_a_failed_send_records_nothing_so_a_later_run_sends(week, monkeypatch):
    def broken(self, messages):
        raise ConnectionRefusedError("SMTP down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailBackend, "send_messages", broken)
        with pytest.raises(ConnectionRefusedError):
            weekly_digest_send()
    assert not DigestRun.objects.exists() and not mail.outbox
    assert weekly_digest_send()["sent"] == 1


def test_nobody_in_product_means_nothing_sent_or_recorded(specialist):
    assert weekly_digest_send()["sent"] == 0
    assert not mail.outbox and not DigestRun.objects.exists()


def test_the_task_runs_it_and_is_scheduled_on_monday_mornings(product_person):
    assert weekly_digest()["sent"] == 1
    assert weekly_digest()["sent"] == 0
    (schedule,) = [s for s in SCHEDULES if s.func == "feedback.tasks.weekly_digest"]
    assert schedule.cron == "0 7 * * 1"


def test_iso_weeks_are_named_as_the_digest_run_stores_them(settings):
    settings.TIME_ZONE = "UTC"
    assert iso_week(dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)) == "2026-W48"
    assert iso_week(dt.datetime(2027, 1, 1, 7, tzinfo=dt.UTC)) == "2026-W53"
    assert iso_week(dt.datetime(2025, 12, 29, 7, tzinfo=dt.UTC)) == "2026-W01"
