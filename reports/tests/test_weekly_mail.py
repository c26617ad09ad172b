"""The weekly e-mail: frozen on Monday morning by the hourly task and sent once to Leadership
and the added addresses (a rerun or a second pass sends nothing), readable in a mail client
(no scripts, a plain-text part, the CSV attached, the reader's time zone), a refused send
retried and then given up, visible to Admins."""

import datetime as dt
from smtplib import SMTPRecipientsRefused
from unittest import mock

import pytest
from django.core import mail

from accounts.tests.factories import specialist_user
from reports.models import MetricSnapshot, WeeklyMail, WeeklyMailRecipient
from reports.tasks import weekly_snapshots
from reports.tests.test_weekly_freezing import MONDAY, rated
from reports.weekly.freezing import week_freeze
from reports.weekly.mail import MAX_ATTEMPTS, mails_send

pytestmark = pytest.mark.django_db
UTC = dt.UTC
MONDAY_0500 = dt.datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # the week has ended, not 06:00 yet
MONDAY_0607 = dt.datetime(2026, 11, 30, 6, 7, tzinfo=UTC)


@pytest.fixture
def readers(settings, leader, portal_admin):
    settings.TIME_ZONE = "UTC"
    leader.email, leader.time_zone = "lead@example.com", "Asia/Tokyo"
    leader.save()
    WeeklyMailRecipient.objects.create(email="board@example.com", added_at=MONDAY_0500)
    for day, rating in ((23, 5), (24, 4), (25, 1), (26, 5)):
        rated(dt.datetime(2026, 11, day, 12, tzinfo=UTC), rating)
    return leader


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_the_week_is_frozen_after_monday_6_and_mailed_once(readers):
    week_freeze(MONDAY - dt.timedelta(days=7), now=MONDAY_0500)  # the week before, frozen last Monday
    with at(MONDAY_0500):
        assert weekly_snapshots() == {"frozen": [], "sent": 0, "failed": 0, "gave_up": 0}
    with at(MONDAY_0607):
        result = weekly_snapshots()
    assert result["frozen"] == [MONDAY.isoformat()] and result["sent"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["board@example.com", "lead@example.com"]
    with at(MONDAY_0607 + dt.timedelta(hours=1)):
        assert weekly_snapshots() == {"frozen": [], "sent": 0, "failed": 0, "gave_up": 0}
    assert len(mail.outbox) == 2 and MetricSnapshot.objects.count() == 2


def test_the_mail_reads_well_in_a_mail_client_in_the_readers_time_zone(readers):
    with at(MONDAY_0607):
        weekly_snapshots()
    message = next(m for m in mail.outbox if m.to == ["lead@example.com"])
    html = message.alternatives[0][0]
    assert "<script" not in html and "<link" not in html and "<style" not in html
    assert "CSAT" in html and "75.0%" in html and "Asia/Tokyo" in html and "Mon 23 Nov 2026, 09:00" in html
    assert message.subject == "Support program, week of 23 Nov 2026"
    assert "- CSAT: 75.0%" in message.body and "<td" not in message.body
    name, attached, kind = message.attachments[0]
    assert name == "support-week-2026-11-23.csv" and kind == "text/csv" and "CSAT,2026-11-23" in attached
    board = next(m for m in mail.outbox if m.to == ["board@example.com"])
    assert "Mon 23 Nov 2026, 00:00" in board.alternatives[0][0]  # no user: the program's zone


def test_a_week_without_data_says_so_in_the_mail(settings, leader):
    settings.TIME_ZONE = "UTC"
    leader.email = "lead@example.com"
    leader.save()
    with at(MONDAY_0607):
        weekly_snapshots()
    (message,) = mail.outbox
    assert message.subject.endswith(": no data") and "NO DATA THIS WEEK" in message.body


def test_a_refused_send_is_retried_then_given_up_and_visible(readers):
    with (
        at(MONDAY_0607),
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=SMTPRecipientsRefused({})),
    ):
        assert weekly_snapshots()["failed"] == 2
    refused = WeeklyMail.objects.get(email="lead@example.com")
    assert refused.status == "failed" and "SMTPRecipientsRefused" in refused.last_error
    assert refused.next_attempt_at == MONDAY_0607 + dt.timedelta(minutes=10)
    with at(MONDAY_0607 + dt.timedelta(minutes=5)):
        assert mails_send()["sent"] == 0  # not yet due
    with at(MONDAY_0607 + dt.timedelta(minutes=11)):
        assert mails_send()["sent"] == 2
    assert len(mail.outbox) == 2
    WeeklyMail.objects.update(status="failed", attempts=MAX_ATTEMPTS - 1, next_attempt_at=MONDAY_0607)
    with (
        at(MONDAY_0607 + dt.timedelta(days=1)),
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("Connection refused")),
    ):
        assert mails_send()["gave_up"] == 2
    assert set(WeeklyMail.objects.values_list("status", flat=True)) == {"dead"}


def test_the_leadership_list_is_read_when_the_week_is_frozen(readers):
    late = specialist_user(email="late@example.com")
    with at(MONDAY_0607):
        weekly_snapshots()
    from django.contrib.auth.models import Group

    late.groups.add(Group.objects.get(name="Leadership"))
    with at(MONDAY_0607 + dt.timedelta(hours=1)):
        weekly_snapshots()
    assert not WeeklyMail.objects.filter(email="late@example.com").exists()


def test_a_worker_back_on_wednesday_freezes_and_mails_the_week_that_ended_not_the_current_one(readers):
    week_freeze(MONDAY - dt.timedelta(days=7), now=MONDAY_0500)
    with at(dt.datetime(2026, 12, 2, 10, tzinfo=UTC)):  # down from Sunday to Wednesday morning
        result = weekly_snapshots()
    assert result["frozen"] == [MONDAY.isoformat()] and result["sent"] == 2
    snapshot = MetricSnapshot.objects.get(week=MONDAY)
    assert snapshot.headline["csat.csat"]["value"] == 75.0
    assert {m.subject for m in mail.outbox} == {"Support program, week of 23 Nov 2026"}


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_send_each_mail_once(readers):
    import threading
    import time

    from django.db import connection

    with at(MONDAY_0607):
        snapshot, _ = week_freeze(MONDAY)
        from reports.weekly.mail import mails_queue

        mails_queue(snapshot)
    sent = []

    def slow_send(message, *args, **kwargs):
        time.sleep(0.2)  # long enough for the other worker to reach the same row
        sent.append(message.to[0])
        return 1

    def worker():
        try:
            mails_send(now=MONDAY_0607)
        finally:
            connection.close()

    with mock.patch("django.core.mail.EmailMessage.send", autospec=True, side_effect=slow_send):
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=30)
    assert sorted(sent) == ["board@example.com", "lead@example.com"]
    assert set(WeeklyMail.objects.values_list("status", flat=True)) == {"sent"}
