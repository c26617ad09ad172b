"""Delivering pages: sent once, retried with backoff when a channel is down, given up after the
last attempt, never sent for an escalation acknowledged first, re-claimed after a worker died,
never claimed twice; a constant number of queries however many pages."""

import datetime as dt
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import specialist_user
from integrations.models import SyncJob
from integrations.outbox import outbox_mark_delivered
from oncall.channels import Pager
from oncall.models import Escalation, Page
from oncall.services import delivery
from oncall.services.delivery import DeliveryReport, pages_claim, pages_deliver
from oncall.tests.factories import make_escalation_policy, make_rota
from oncall.tests.test_channels import NOW, FakeChatWebhook, escalation_at, page_to

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def chat_webhook():
    fake = FakeChatWebhook()
    yield fake
    fake.close()


@pytest.fixture
def escalation():
    return escalation_at(make_escalation_policy(make_rota()))


@pytest.fixture
def person():
    return specialist_user(first_name="Aiko", last_name="Sato", time_zone="Asia/Tokyo")


def test_an_email_page_goes_out_once_and_is_recorded_sent(escalation, person):
    page = page_to(escalation, person)

    assert pages_deliver(NOW) == DeliveryReport(sent=1)

    page.refresh_from_db()
    assert (page.status, page.attempts, page.sent_at, page.last_error) == (Page.Status.SENT, 1, NOW, "")
    assert (page.claimed_at, page.next_attempt_at) == (None, None)
    [message] = mail.outbox
    assert message.subject == f"[SEV1] Escalation ESC-{escalation.pk}: Trader cannot withdraw"
    assert pages_deliver(NOW + 60 * MINUTE) == DeliveryReport()
    assert len(mail.outbox) == 1


def test_a_webhook_answering_200_is_sent(escalation, person, chat_webhook):
    page = page_to(escalation, person, Page.Channel.WEBHOOK, address=chat_webhook.url)

    assert pages_deliver(NOW) == DeliveryReport(sent=1)

    page.refresh_from_db()
    assert page.status == Page.Status.SENT
    assert len(chat_webhook.received) == 1


def test_a_webhook_answering_500_fails_and_is_sent_once_it_recovers(escalation, person, chat_webhook):
    chat_webhook.status = 500
    page = page_to(escalation, person, Page.Channel.WEBHOOK, address=chat_webhook.url)

    assert pages_deliver(NOW) == DeliveryReport(failed=1)
    page.refresh_from_db()
    assert (page.status, page.attempts, page.last_error) == (
        Page.Status.FAILED,
        1,
        "Chat webhook answered 500",
    )
    assert page.next_attempt_at == NOW + MINUTE

    assert pages_deliver(NOW + dt.timedelta(seconds=59)) == DeliveryReport()  # not due yet
    chat_webhook.status = 200
    assert pages_deliver(NOW + MINUTE) == DeliveryReport(sent=1)
    page.refresh_from_db()
    assert (page.status, page.attempts, page.last_error) == (Page.Status.SENT, 2, "")
    assert len(chat_webhook.received) == 2


def test_a_webhook_that_never_answers_fails_within_its_timeout_and_holds_up_nothing(
    escalation, person, chat_webhook, settings
):
    settings.ONCALL_WEBHOOK_TIMEOUT_SECONDS = 0.5
    chat_webhook.hang = True
    first = page_to(escalation, person, Page.Channel.WEBHOOK, address=chat_webhook.url)
    second = page_to(escalation, specialist_user(), Page.Channel.WEBHOOK, address=chat_webhook.url)
    by_mail = page_to(escalation, person)

    started = time.monotonic()
    report = pages_deliver(NOW)
    elapsed = time.monotonic() - started

    assert report == DeliveryReport(sent=1, failed=2)
    assert elapsed < 2.5, f"one timeout of 0.5 s, not one per page: took {elapsed:.2f} s"
    first.refresh_from_db()
    second.refresh_from_db()
    by_mail.refresh_from_db()
    # Sent side by side: each either waited out its own timeout or was not tried after the first.
    for page in (first, second):
        assert page.last_error.startswith("Chat webhook did not answer within 0.5 s"), page.last_error
    assert {first.status, second.status} == {Page.Status.FAILED}
    assert by_mail.status == Page.Status.SENT
    assert len(chat_webhook.received) <= 2


def test_pages_to_an_endpoint_found_down_are_not_tried_again_in_the_pass(
    escalation, person, chat_webhook, settings, monkeypatch
):
    settings.ONCALL_WEBHOOK_TIMEOUT_SECONDS = 0.5
    monkeypatch.setattr(delivery, "SEND_THREADS", 2)
    chat_webhook.hang = True
    for _ in range(8):
        page_to(escalation, specialist_user(), Page.Channel.WEBHOOK, address=chat_webhook.url)

    started = time.monotonic()
    assert pages_deliver(NOW) == DeliveryReport(failed=8)
    elapsed = time.monotonic() - started

    errors = list(Page.objects.values_list("last_error", flat=True))
    skipped = [e for e in errors if e.endswith("; not tried again in this pass")]
    assert len(skipped) >= 8 - 2 * 2, errors  # at most two rounds of two threads waited
    assert elapsed < 2.5, f"two threads, each waiting at most twice: took {elapsed:.2f} s"


def test_a_failing_page_is_retried_with_backoff_and_given_up_after_the_last_attempt(
    escalation, person, chat_webhook
):
    chat_webhook.status = 500
    page = page_to(escalation, person, Page.Channel.WEBHOOK, address=chat_webhook.url)
    at, waits = NOW, []
    for attempt in range(1, delivery.MAX_ATTEMPTS):
        assert pages_deliver(at) == DeliveryReport(failed=1)
        page.refresh_from_db()
        assert page.attempts == attempt
        waits.append(int((page.next_attempt_at - at) / MINUTE))
        at = page.next_attempt_at

    assert pages_deliver(at) == DeliveryReport(dead=1)

    assert waits == [1, 2, 5, 10, 30, 30, 30]
    page.refresh_from_db()
    assert (page.status, page.attempts, page.next_attempt_at) == (Page.Status.DEAD, 8, None)
    assert page.last_error == "Chat webhook answered 500"
    assert pages_deliver(at + dt.timedelta(days=1)) == DeliveryReport()
    assert len(chat_webhook.received) == 8


def test_a_page_that_cannot_get_better_gives_up_at_once(escalation, person):
    page = page_to(escalation, person, address="")

    assert pages_deliver(NOW) == DeliveryReport(dead=1)

    page.refresh_from_db()
    assert (page.status, page.last_error) == (Page.Status.DEAD, "No e-mail address")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Escalation.Status.ACKNOWLEDGED, "Acknowledged before it was sent"),
        (Escalation.Status.RESOLVED, "Resolved before it was sent"),
    ],
)
def test_a_page_of_an_escalation_no_longer_triggered_is_not_sent(escalation, person, status, reason):
    page = page_to(escalation, person)
    escalation.status = status
    escalation.save(update_fields=["status"])

    assert pages_deliver(NOW) == DeliveryReport(skipped=1)

    page.refresh_from_db()
    assert (page.status, page.last_error, page.attempts) == (Page.Status.DEAD, reason, 0)
    assert mail.outbox == []


def test_a_page_left_sending_by_a_dead_worker_is_claimed_again_after_two_minutes(escalation, person):
    page = page_to(escalation, person)
    assert pages_claim(NOW, limit=10) == [page.pk]  # ...and the worker is killed before sending

    assert pages_deliver(NOW + dt.timedelta(seconds=119)) == DeliveryReport()  # its lease holds
    assert mail.outbox == []
    assert pages_deliver(NOW + 2 * MINUTE + dt.timedelta(seconds=1)) == DeliveryReport(sent=1)

    page.refresh_from_db()
    assert (page.status, page.attempts) == (Page.Status.SENT, 2)
    assert len(mail.outbox) == 1


def test_two_claims_at_once_never_return_the_same_page(escalation):
    pages = {page_to(escalation, specialist_user()).pk for _ in range(5)}

    first = pages_claim(NOW, limit=3)
    second = pages_claim(NOW, limit=10)

    assert (len(first), len(second)) == (3, 2)
    assert set(first) | set(second) == pages
    assert pages_claim(NOW, limit=10) == []
    assert pages_deliver(NOW) == DeliveryReport()  # another worker's claims are not sent
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_running_together_send_each_page_once(chat_webhook, specialist):  # roles ready
    escalation = escalation_at(make_escalation_policy(make_rota()))
    pages = [
        page_to(escalation, specialist_user(), Page.Channel.WEBHOOK, address=chat_webhook.url)
        for _ in range(40)
    ]
    reports, errors = [], []

    def deliverer():
        try:
            reports.append(pages_deliver(NOW, limit=10))
            reports.append(pages_deliver(NOW))
        except Exception as error:  # surfaced below, with the thread's failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sum(report.sent for report in reports) == 40
    assert len(chat_webhook.received) == 40
    ack_links = {posted["text"].rsplit(": ", 1)[1] for posted in chat_webhook.received}
    assert len(ack_links) == 40  # forty different pages, none twice
    assert set(Page.objects.values_list("status", "attempts")) == {(Page.Status.SENT, 1)}
    assert len(pages) == 40


def test_the_intercom_channel_records_one_outbox_job_per_escalation_even_when_delivered_twice(
    escalation, person
):
    page = page_to(escalation, person, Page.Channel.INTERCOM, address=escalation.account.external_id)
    jobs = SyncJob.objects.filter(kind=SyncJob.Kind.CONTACT_NOTE, key=f"escalation:{escalation.pk}")

    def delivered_again():
        """As if a worker died after recording the note but before recording the page."""
        Page.objects.filter(pk=page.pk).update(
            status=Page.Status.SENDING, claimed_at=NOW - 3 * MINUTE, next_attempt_at=NOW - MINUTE
        )
        assert pages_deliver(NOW) == DeliveryReport(sent=1)

    assert pages_deliver(NOW) == DeliveryReport(sent=1)
    assert jobs.count() == 1
    delivered_again()  # while the job waits in the outbox
    assert jobs.count() == 1
    outbox_mark_delivered(jobs.get())
    delivered_again()  # after Intercom got it
    assert list(jobs.values_list("status", flat=True)) == [SyncJob.Status.DONE]


def test_pages_deliver_runs_the_same_queries_for_2_or_20_email_pages(
    escalation, django_assert_max_num_queries
):
    counts = []
    for round_number, how_many in enumerate((2, 20)):
        for _ in range(how_many):
            page_to(escalation, specialist_user(), round=round_number)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(8):
            assert pages_deliver(NOW) == DeliveryReport(sent=how_many)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(mail.outbox) == 22


def test_a_pass_past_its_time_budget_hands_the_rest_back_and_sends_them_after(escalation, monkeypatch):
    monkeypatch.setattr(delivery, "SEND_BUDGET_SECONDS", -1)  # every page is the last of its claim
    pages = [page_to(escalation, specialist_user()) for _ in range(3)]

    assert pages_deliver(NOW) == DeliveryReport(sent=3)

    assert set(Page.objects.filter(pk__in=[p.pk for p in pages]).values_list("status", "attempts")) == {
        (Page.Status.SENT, 1)
    }
    assert len(mail.outbox) == 3


def test_limit_bounds_a_pass_and_the_rest_go_in_the_next(escalation):
    for _ in range(3):
        page_to(escalation, specialist_user())

    assert pages_deliver(NOW, limit=2) == DeliveryReport(sent=2)
    assert pages_deliver(NOW, limit=2) == DeliveryReport(sent=1)
    assert len(mail.outbox) == 3


def test_an_unexpected_error_is_a_recorded_failure_not_a_stuck_page(escalation, person, monkeypatch):
    def broken(self, page):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Pager, "send", broken)
    page = page_to(escalation, person)

    assert pages_deliver(NOW) == DeliveryReport(failed=1)

    page.refresh_from_db()
    assert (page.status, page.last_error) == (Page.Status.FAILED, "Unexpected error (RuntimeError)")
