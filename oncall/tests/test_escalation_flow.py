"""Escalations end to end: an SLA breach on a policy marked "escalate on breach" raises one (once
per item); a raise pages whoever is on call at once, through the task the raise queues; the
link in the e-mail acknowledges it; My day shows the ones nobody has acknowledged."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import make_account, specialist_user
from oncall.models import Escalation, Page
from oncall.services.escalations import escalation_raise
from oncall.tests.factories import make_escalation_policy, make_rota
from portal.tests.pages import form_on, submit
from support.models import SlaPolicy
from support.sla.tick import sla_tick
from support.tests.factories import make_conversation, only_policy, pinned_time

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 6, 2, 0, tzinfo=dt.UTC)  # a Saturday night
M = dt.timedelta(minutes=1)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


@pytest.fixture
def on_call(time):
    ada = specialist_user(username="ada", email="ada@example.com")
    make_escalation_policy(
        make_rota(layers={"Primary": [ada], "Secondary": [specialist_user()]}), is_default=True
    )
    return ada


def unanswered(account, **fields):
    return make_conversation(
        account,
        created_at=T0,
        updated_at=T0,
        waiting_since=T0,
        statistics={"first_admin_reply_at": None, "last_admin_reply_at": None},
        source="webhook",
        **fields,
    )


def test_a_breach_of_a_policy_that_escalates_raises_one_escalation_and_pages(
    on_call, time, django_capture_on_commit_callbacks
):
    only_policy(escalate_on_breach=True)
    conversation = unanswered(make_account(), title="Cannot withdraw")

    time.now = T0 + 61 * M  # first response (60 min) breached
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()
    time.now = T0 + 241 * M  # resolution (240 min) breached too: the open escalation takes it
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()

    escalation = Escalation.objects.get()
    assert (escalation.conversation, escalation.source, escalation.raised_by) == (
        conversation,
        "sla_breach",
        None,
    )
    assert escalation.summary == "SLA breached: first response on Cannot withdraw"
    assert list(escalation.events.values_list("kind", flat=True)) == ["raised", "paged", "linked"]
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert Page.objects.get(channel="email").status == "sent"


def test_a_breach_of_a_policy_that_does_not_escalate_raises_nothing(
    on_call, time, django_capture_on_commit_callbacks
):
    only_policy()
    assert SlaPolicy.objects.get().escalate_on_breach is False
    unanswered(make_account())
    time.now = T0 + 61 * M
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()
    assert not Escalation.objects.exists()


def test_raise_page_and_acknowledge_from_the_link_in_the_mail(
    client, on_call, time, django_capture_on_commit_callbacks
):
    raiser = specialist_user(username="raiser")
    with django_capture_on_commit_callbacks(execute=True):
        escalation, _ = escalation_raise(
            by=raiser, severity="sev1", summary="Whale cannot withdraw", account=make_account(owner=raiser)
        )

    [message] = mail.outbox
    assert message.to == ["ada@example.com"] and "Whale cannot withdraw" in message.subject
    link = re.search(r"https?://\S+/oncall/ack/\S+/", message.body).group(0)
    path = link[link.index("/oncall/") :]

    time.advance(minutes=7)
    client.force_login(on_call)
    page = client.get(path)
    assert page.status_code == 200
    submit(client, form_on(page, action=""))
    escalation.refresh_from_db()
    assert (escalation.status, escalation.acknowledged_by, escalation.acknowledged_at) == (
        "acknowledged",
        on_call,
        T0 + 7 * M,
    )


def test_my_day_lists_escalations_nobody_has_acknowledged(client, on_call, leader, time):
    account = make_account(owner=on_call)
    escalation, _ = escalation_raise(
        by=on_call, severity="sev1", summary="Whale cannot withdraw", account=account
    )
    for person in (on_call, leader):
        client.force_login(person)
        home = client.get(reverse("home")).content.decode()
        assert "Escalations waiting for a person" in home and f"ESC-{escalation.pk}" in home
    Escalation.objects.update(status="acknowledged")
    assert "Escalations waiting for a person" not in client.get(reverse("home")).content.decode()


def test_the_demo_puts_the_demo_specialist_on_call_with_a_default_policy(
    client, django_capture_on_commit_callbacks
):
    from oncall.models import EscalationPolicy
    from portal.models import User
    from portal.tests.seeding import seed

    seed("--accounts", "3", "--markets", "0", "--disputes", "0", "--feedback", "0", "--conversations", "0")
    policy = EscalationPolicy.objects.get(is_default=True)
    assert list(policy.steps.values_list("position", "layer_position", "wait_minutes")) == [
        (1, 1, 30),
        (2, 2, 15),
        (3, None, 10),
    ]
    specialist = User.objects.get(username="specialist")
    with django_capture_on_commit_callbacks(execute=True):
        escalation, _ = escalation_raise(
            by=specialist, severity="sev2", summary="Demo", account=make_account(owner=specialist)
        )
    assert Page.objects.filter(escalation=escalation, recipient=specialist, channel="email").exists()


def test_a_breach_with_no_escalation_policy_set_up_is_logged_and_the_pass_goes_on(
    time, django_capture_on_commit_callbacks, caplog
):
    only_policy(escalate_on_breach=True)
    for _ in range(2):
        unanswered(make_account())
    time.now = T0 + 61 * M
    with django_capture_on_commit_callbacks(execute=True):
        report = sla_tick()
    assert report.breaches == 2  # both recorded, both announced
    assert not Escalation.objects.exists()
    assert caplog.text.count("not escalated: No escalation policy is set up") == 2


def test_the_breaches_of_one_pass_are_announced_with_one_read_of_their_clocks(
    time, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """The listener gets each clock as committed, with its policy and item: a pass with many
    breaches of a policy that does not escalate costs one query after commit, not one per breach."""
    only_policy(escalate_on_breach=False)
    for _ in range(6):
        unanswered(make_account())
    time.now = T0 + 61 * M
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sla_tick().breaches == 6
    assert len(callbacks) == 1
    with django_assert_max_num_queries(1):
        for callback in callbacks:
            callback()
    assert not Escalation.objects.exists()
