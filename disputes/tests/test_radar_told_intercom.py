"""*Told them* with the message sent in Intercom: from the form My day renders, one message per
account through the outbox, delivered once (a retry after a lost answer sends nothing twice),
and bad input refused with nothing logged or queued."""

import datetime as dt
import html
import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import CheckIn
from accounts.tests.factories import make_account, specialist_user
from disputes.models import HeadsUp
from disputes.radar.fanout import radar_fan_out
from disputes.tests.test_radar import hold, refresh, told_form
from integrations.intercom import sender as sender_module
from integrations.intercom.client import IntercomClient
from integrations.intercom.sender import drain
from integrations.models import IntercomAdmin, RateBudget, SyncJob
from integrations.ratelimit import SharedRateBudget

pytestmark = pytest.mark.django_db
MESSAGE = SyncJob.Kind.CONTACT_MESSAGE


@pytest.fixture
def heads_up(intercom):
    """Two accounts of one owner (mapped to an Intercom teammate) hold a market just proposed."""
    call_command("intercom_setup", stdout=StringIO())
    RateBudget.objects.all().delete()
    owner = specialist_user(email="iris@example.com")
    IntercomAdmin.objects.filter(intercom_id=intercom.admin_ids[1]).update(portal_user=owner)
    hold(make_account(owner=owner, display_name="I1", external_id="acct-i1", wallets=["0x" + "b" * 40]))
    hold(make_account(owner=owner, display_name="I2", external_id="acct-i2", wallets=["0x" + "c" * 40]))
    market = refresh()
    refresh(umaResolutionStatuses='["proposed"]')
    radar_fan_out(market.signals.get().pk)
    return HeadsUp.objects.select_related("owner").get()


def rendered_form(client, heads_up) -> tuple[str, str]:
    """The Told them form's action and the message it offers, as My day renders them."""
    client.force_login(heads_up.owner)
    page = client.get("/").content.decode()
    message = re.search(
        rf'<textarea name="message" id="message-{heads_up.pk}"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert message, "My day offers no message to send"
    return told_form(page, heads_up), html.unescape(message[1])


def started_conversations(fake) -> list[dict]:
    with fake._lock:
        ids = list(fake._conversations)
    found = [fake.get_conversation(i) for i in ids]
    return [c for c in found if c["source"]["delivered_as"] == "admin_initiated"]


def drained():
    client = IntercomClient(
        sleep=lambda s: None, budget=SharedRateBudget(sleep=time.sleep), backoff_base=0.01
    )
    report = drain(client=client)
    assert not report.errors, report.errors


def test_told_them_in_intercom_messages_each_account_once_as_its_owner(client, heads_up, intercom):
    action, message = rendered_form(client, heads_up)
    assert "was just proposed for resolution" in message

    response = client.post(
        action, {"channel": "intercom", "send_message": "1", "message": message}, follow=True
    )
    assert "the message goes to each in Intercom" in response.content.decode()
    jobs = SyncJob.objects.filter(kind=MESSAGE)
    assert sorted(jobs.values_list("key", flat=True)) == sorted(
        f"heads-up:{heads_up.pk}:account:{h['account_id']}" for h in heads_up.holdings
    )
    assert CheckIn.objects.filter(kind=CheckIn.Kind.PROACTIVE).count() == 2

    drained()
    conversations = started_conversations(intercom)
    assert len(conversations) == 2
    assert {c["contacts"]["contacts"][0]["external_id"] for c in conversations} == {"acct-i1", "acct-i2"}
    for conversation in conversations:
        assert conversation["source"]["author"]["id"] == str(intercom.admin_ids[1])  # as the owner
        assert "was just proposed for resolution" in conversation["source"]["body"]
    assert set(jobs.values_list("status", flat=True)) == {"done"}

    # A worker that sent one and died before recording it: the retry finds it, sends nothing.
    jobs.filter(key__endswith=str(heads_up.holdings[0]["account_id"])).update(
        status="failed",
        attempts=1,
        last_delivered_hash="",
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
        claimed_at=timezone.now() - sender_module.LEASE - dt.timedelta(seconds=1),
    )
    drained()
    assert len(started_conversations(intercom)) == 2
    assert set(jobs.values_list("status", flat=True)) == {"done"}


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ({"channel": "call", "send_message": "1", "message": "Hi"}, "Only a message by Intercom"),
        ({"channel": "intercom", "send_message": "1", "message": "  "}, "Write the message to send"),
        ({"channel": "intercom", "send_message": "1", "message": "x" * 4001}, "under 4,000 characters"),
    ],
)
def test_a_message_that_cannot_be_sent_logs_and_queues_nothing(client, heads_up, sent, says):
    action, _ = rendered_form(client, heads_up)
    page = client.post(action, sent, follow=True).content.decode()
    assert says in html.unescape(page) and "othing was logged or sent" in page
    assert not SyncJob.objects.filter(kind=MESSAGE).exists()
    assert not CheckIn.objects.filter(kind=CheckIn.Kind.PROACTIVE).exists()
    assert HeadsUp.objects.get().told_at is None


def test_told_them_without_sending_queues_no_message(client, heads_up):
    action, message = rendered_form(client, heads_up)
    client.post(action, {"channel": "intercom", "message": message})
    assert CheckIn.objects.filter(kind=CheckIn.Kind.PROACTIVE).count() == 2
    assert not SyncJob.objects.filter(kind=MESSAGE).exists()
