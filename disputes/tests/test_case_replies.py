"""A reply sent from a case to the user's Intercom conversation: the case shows where each one
stands (queued, sent, failed with the reason and the next try, dead), read from the outbox, and a
refused reply reaches the assignee's My day."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from disputes.services.cases import dispute_file
from integrations.intercom.sender import drain
from integrations.models import RateBudget, SyncJob
from integrations.services import sync_job_retry
from playbooks.tests.factories import make_template
from portal.tests.pages import form_on, link_to, links, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(intercom):
    """The fake Intercom with the portal's attributes, tags and teammates set up."""
    call_command("intercom_setup", stdout=StringIO())
    RateBudget.objects.all().delete()
    return intercom


def _case(specialist, *, external_id, conversation_id):
    account = make_account(owner=specialist, display_name="Dana Whitfield", external_id=external_id)
    return dispute_file(
        by=specialist,
        account=account,
        category="order_execution",
        claim="My order filled at the wrong price.",
        assignee=specialist,
        intercom_conversation_id=conversation_id,
    )


def _send_reply(client, case, template, text):
    """Choose the template on the case page, then press *Send to the user in Intercom*."""
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    draft = client.get(link_to(page, template.name))
    form = form_on(draft, action_contains="/reply/")
    response = submit(client, form, button=("send", "1"), body=text)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"])


def _history(response) -> str:
    page = response.content.decode()
    return page[page.index('id="history-heading"') :]


def test_a_refused_reply_shows_failed_then_dead_on_the_case_and_on_my_day(client, ready, specialist):
    template = make_template(specialist, name="Order reply", serves="order_execution")
    # Intercom holds no such conversation: it answers 404 to the reply.
    case = _case(specialist, external_id="acct-refused", conversation_id="215479999999999")
    client.force_login(specialist)
    queued = _send_reply(client, case, template, "Hi Dana, we looked at the fill.")
    assert "Queued" in _history(queued) and "Waiting to be sent to Intercom" in _history(queued)

    report = drain()
    assert report.failed == 1, report.errors
    job = SyncJob.objects.get(kind=SyncJob.Kind.CONVERSATION_REPLY)
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    history = _history(page)
    assert "Failed" in history and "Intercom refused it:" in history
    assert job.last_error.split(":")[0] in history
    assert f"Retrying at {timezone.localtime(job.next_attempt_at):%a %-d %b %Y, %H:%M}" in history

    my_day = client.get(reverse("home"))
    assert "Replies Intercom refused" in my_day.content.decode()
    panel = my_day.content.decode().split("Replies Intercom refused")[1]
    [event_link] = [link.href for link in links(my_day) if "#event-" in link.href]
    assert event_link in panel and event_link.startswith(
        reverse("disputes:case_detail", args=[case.reference])
    )
    assert f'id="{event_link.split("#")[1]}"' in client.get(event_link).content.decode()

    # A day of failures later the sender gives up: the case and My day say so.
    SyncJob.objects.filter(pk=job.pk).update(
        failing_since=timezone.now() - dt.timedelta(hours=25), next_attempt_at=timezone.now()
    )
    assert drain().dead == 1
    history = _history(client.get(reverse("disputes:case_detail", args=[case.reference])))
    assert "Dead" in history and "retries are used up" in history
    sync_link = next(
        link.href
        for link in links(client.get(reverse("disputes:case_detail", args=[case.reference])))
        if link.text == "retry it on the sync page"
    )
    assert sync_link == reverse("integrations:sync")
    assert "retries used up" in client.get(reverse("home")).content.decode()

    # Retried from the sync page, it is queued again and leaves My day.
    sync_job_retry(job=SyncJob.objects.get(pk=job.pk), by=specialist)
    assert "Waiting to be sent to Intercom" in _history(
        client.get(reverse("disputes:case_detail", args=[case.reference]))
    )
    assert "Replies Intercom refused" not in client.get(reverse("home")).content.decode()


def test_a_delivered_reply_shows_sent_and_nobody_is_told_it_failed(client, ready, specialist, leader):
    template = make_template(specialist, name="Order reply", serves="order_execution")
    user = ready.add_contact(role="user", external_id="acct-sent")
    conversation = ready.add_conversation(user["id"], "Why did my order fill there?")
    case = _case(specialist, external_id="acct-sent", conversation_id=conversation["id"])
    client.force_login(specialist)
    _send_reply(client, case, template, "Hi Dana, here is what happened.")
    assert not drain().errors
    history = _history(client.get(reverse("disputes:case_detail", args=[case.reference])))
    assert "Sent" in history and "Intercom took the reply" in history
    assert "Replies Intercom refused" not in client.get(reverse("home")).content.decode()
    client.force_login(leader)  # Leadership reads the case too, without a sync-page link
    assert "Intercom took the reply" in _history(
        client.get(reverse("disputes:case_detail", args=[case.reference]))
    )


def test_the_case_page_reads_every_replys_state_in_one_query(
    client, specialist, settings, django_assert_max_num_queries
):
    settings.INTERCOM_ENABLED = True
    template = make_template(specialist, name="Order reply", serves="order_execution")
    case = _case(specialist, external_id="acct-many", conversation_id="215470000000001")
    client.force_login(specialist)
    url = reverse("disputes:case_detail", args=[case.reference])
    _send_reply(client, case, template, "First.")
    with django_assert_max_num_queries(60) as one:
        client.get(url)
    for n in range(6):
        _send_reply(client, case, template, f"Reply {n}.")
    SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_REPLY).update(
        status="failed", last_error="404 not_found"
    )
    with django_assert_max_num_queries(60) as many:
        page = client.get(url)
    assert len(many.captured_queries) == len(one.captured_queries)
    assert _history(page).count("Intercom refused it: 404 not_found") == 7


def test_my_day_panel_runs_a_fixed_number_of_queries(
    client, specialist, settings, django_assert_max_num_queries
):
    settings.INTERCOM_ENABLED = True
    template = make_template(specialist, name="Order reply", serves="order_execution")
    client.force_login(specialist)

    def refused_cases(count, start):
        for n in range(count):
            case = _case(
                specialist,
                external_id=f"acct-panel-{start + n}",
                conversation_id=f"21547000000{start + n:04d}",
            )
            _send_reply(client, case, template, "Hello.")
        SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_REPLY).update(
            status="dead", last_error="404 not_found"
        )

    refused_cases(1, 0)
    with django_assert_max_num_queries(60) as one:
        assert client.get(reverse("home")).content.decode().count("retries used up") == 1
    refused_cases(5, 1)
    with django_assert_max_num_queries(60) as many:
        assert client.get(reverse("home")).content.decode().count("retries used up") == 6
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_first_reply_sent_to_the_user_is_the_cases_first_response(ready, specialist, monkeypatch):
    from disputes.services.cases import case_reply_record

    template = make_template(specialist, name="Order reply", serves="order_execution")
    case = _case(specialist, external_id="user-first", conversation_id="215470000000991")
    filed = case.created_at

    monkeypatch.setattr(timezone, "now", lambda: filed + dt.timedelta(minutes=5))
    case_reply_record(case=case, by=specialist, template=template, subject="", body="Looking.", send=False)
    case.refresh_from_db()
    assert case.first_responded_at is None  # kept in the history only: the user saw nothing

    monkeypatch.setattr(timezone, "now", lambda: filed + dt.timedelta(minutes=20))
    case_reply_record(case=case, by=specialist, template=template, subject="", body="Here is why.", send=True)
    monkeypatch.setattr(timezone, "now", lambda: filed + dt.timedelta(minutes=50))
    case_reply_record(case=case, by=specialist, template=template, subject="", body="And more.", send=True)

    case.refresh_from_db()
    assert case.first_responded_at == filed + dt.timedelta(minutes=20)


def test_the_refused_replies_panel_reads_the_refused_jobs_not_every_reply_sent(
    client, ready, specialist, django_assert_num_queries
):
    """Issue 23: the panel's cost follows the replies Intercom refused, not the replies sent."""
    from disputes.selectors import replies_refused_for

    template = make_template(specialist, name="Order reply", serves="order_execution")
    client.force_login(specialist)
    refused = _case(specialist, external_id="acct-r1", conversation_id="215479999999998")
    _send_reply(client, refused, template, "Hi, about the fill.")
    others = []
    for n in range(3):  # replies that went through: the panel must not read them
        conversation = ready.add_conversation(
            ready.add_contact(role="user", external_id=f"acct-ok{n}")["id"], "Help"
        )
        case = _case(specialist, external_id=f"acct-ok{n}", conversation_id=conversation["id"])
        _send_reply(client, case, template, f"Reply {n}")
        others.append(case)
    assert drain().failed == 1

    with django_assert_num_queries(3):
        found = replies_refused_for(specialist)
    assert [event.case.reference for event in found] == [refused.reference]
    assert found[0].delivery.state == "failed"
    assert replies_refused_for(specialist_user()) == []  # not theirs
