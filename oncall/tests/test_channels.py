"""What each channel sends: the e-mail (subject, body in the recipient's time zone, the ack link),
the chat webhook's text, and the note on the trader's Intercom contact."""

import datetime as dt
import json
import re
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from accounts.tests.factories import make_account, specialist_user
from disputes.services.cases import dispute_file
from integrations.intercom.client import IntercomClient
from integrations.intercom.fake.workspace import ME_ADMIN_ID
from integrations.intercom.sender import drain
from integrations.models import IntercomContact, RateBudget, SyncJob
from oncall.channels import PAGE_RELATED, DeliveryError, Pager, webhook_text
from oncall.models import Escalation, Page
from oncall.services.delivery import pages_deliver
from oncall.tests.factories import make_escalation, make_escalation_policy, make_rota
from oncall.tokens import ack_token_read
from support.selectors import conversation_url
from support.tests.factories import make_conversation

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 5, 14, 0, tzinfo=dt.UTC)


class FakeChatWebhook:
    """A Slack-compatible incoming webhook on a loopback port. It answers `status`, or with
    `hang` reads the request and never answers (until the test ends); `received` holds the JSON
    bodies it was posted."""

    def __init__(self):
        self.status = 200
        self.hang = False
        self.received: list[dict] = []
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                fake.received.append(json.loads(self.rfile.read(length)))
                if fake.hang:
                    fake._release.wait(30)
                    self.close_connection = True
                    return
                self.send_response(fake.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format, *args):
                pass  # quiet

        self.server = _LoopbackServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXXX"

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self):
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


@pytest.fixture
def chat_webhook():
    fake = FakeChatWebhook()
    yield fake
    fake.close()


@pytest.fixture
def tokyo():
    return specialist_user(first_name="Aiko", last_name="Sato", time_zone="Asia/Tokyo")


@pytest.fixture
def policy():
    return make_escalation_policy(make_rota())


def escalation_at(policy, **fields) -> Escalation:
    defaults = {
        "severity": Escalation.Severity.SEV1,
        "summary": "Trader cannot withdraw",
        "raised_at": NOW,
        "next_page_at": NOW + dt.timedelta(minutes=30),
        "ack_deadline_at": NOW + dt.timedelta(minutes=30),
        "round": 1,
    }
    return make_escalation(policy, **{**defaults, **fields})


def page_to(escalation, recipient, channel=Page.Channel.EMAIL, *, address=None, **fields) -> Page:
    if address is None:
        address = recipient.email if recipient else ""
    defaults = {"round": 0, "step": 1, "created_at": NOW, "next_attempt_at": NOW}
    return Page.objects.create(
        escalation=escalation,
        recipient=recipient,
        channel=channel,
        address=address,
        **{**defaults, **fields},
    )


def ack_link_in(text: str):
    """The ack link in `text`, read back: (escalation id, page id)."""
    prefix = re.escape(settings.PORTAL_BASE_URL.rstrip("/") + "/oncall/ack/")
    match = re.search(prefix + r"([^/\s]+)/", text)
    assert match, text
    token = ack_token_read(match.group(1))
    return token.escalation_id, token.page_id


def sent(page: Page) -> Page:
    """`page` sent alone through a Pager, read with what the channels need."""
    page = Page.objects.select_related(*PAGE_RELATED).get(pk=page.pk)
    with Pager() as pager:
        pager.send(page)
    return page


def test_email_names_severity_summary_item_and_ack_link_in_the_recipients_time_zone(policy, tokyo):
    escalation = escalation_at(policy, raised_by=tokyo)
    page = sent(page_to(escalation, tokyo))

    [message] = mail.outbox
    assert message.to == [tokyo.email]
    assert message.subject == f"[SEV1] Escalation ESC-{escalation.pk}: Trader cannot withdraw"
    body = message.body
    assert "Trader cannot withdraw" in body
    assert f"account {escalation.account.display_name}" in body
    assert f"/accounts/{escalation.account_id}/" in body
    # 14:00 UTC is 23:00 in Tokyo; the deadline 30 minutes later.
    assert "Fri 5 Mar 2027, 23:00 JST (Asia/Tokyo)" in body
    assert "Acknowledge by Fri 5 Mar, 23:30 JST" in body
    assert f"by {tokyo.display_name}" in body
    assert ack_link_in(body) == (escalation.pk, page.pk)
    assert f"/oncall/escalations/{escalation.pk}/" in body


def test_a_later_rounds_email_says_nobody_acknowledged_yet(policy, tokyo):
    escalation = escalation_at(policy, round=3)
    sent(page_to(escalation, tokyo, round=2, step=2))

    [message] = mail.outbox
    assert (
        message.subject
        == f"[SEV1] Escalation ESC-{escalation.pk} (still unacknowledged): Trader cannot withdraw"
    )
    assert "nobody has acknowledged it yet" in message.body
    assert "It was due to be acknowledged by Fri 5 Mar, 23:30 JST" in message.body
    assert "by an SLA breach" in message.body  # no raiser


def test_a_summary_with_line_breaks_makes_a_one_line_subject(policy, tokyo):
    escalation = escalation_at(policy, summary="Withdrawal stuck\nsince noon")
    sent(page_to(escalation, tokyo))
    assert mail.outbox[0].subject.endswith(": Withdrawal stuck since noon")


def test_case_and_conversation_pages_link_their_item(policy, tokyo, settings):
    settings.INTERCOM_APP_ID = "abc123"
    owner = specialist_user()
    case = dispute_file(by=owner, account=make_account(owner=owner), category="order_execution", claim="x")
    conversation = make_conversation(intercom_id="777001", title="Where is my payout?")
    on_case = escalation_at(policy, account=None, case=case)
    on_conversation = escalation_at(policy, account=None, conversation=conversation)
    sent(page_to(on_case, tokyo))
    sent(page_to(on_conversation, tokyo))

    case_mail, conversation_mail = mail.outbox
    assert f"case {case.reference} ({case.account.display_name})" in case_mail.body
    assert f"/disputes/{case.reference}/" in case_mail.body
    assert "conversation “Where is my payout?”" in conversation_mail.body
    assert conversation_url("777001") in conversation_mail.body
    assert "/a/inbox/abc123/inbox/conversation/777001" in conversation_mail.body


def test_without_an_intercom_link_a_conversation_page_points_to_its_account(policy, tokyo, settings):
    settings.INTERCOM_APP_ID = ""
    account = make_account(owner=specialist_user())
    conversation = make_conversation(intercom_id="777002", title="Where is my payout?", account=account)
    sent(page_to(escalation_at(policy, account=None, conversation=conversation), tokyo))
    body = mail.outbox[0].body
    assert "conversation “Where is my payout?”" in body
    assert f"/accounts/{account.pk}/" in body and "intercom.com" not in body


def test_webhook_text_names_severity_summary_item_ack_link_and_who_is_paged(policy, tokyo, chat_webhook):
    escalation = escalation_at(policy)
    page = sent(page_to(escalation, tokyo, Page.Channel.WEBHOOK, address=chat_webhook.url))

    [posted] = chat_webhook.received
    text = posted["text"]
    assert text.startswith(f"[SEV1] Escalation ESC-{escalation.pk}: Trader cannot withdraw")
    assert f"/accounts/{escalation.account_id}/" in text
    assert "Paged: Aiko Sato (step 1)" in text
    assert "Acknowledge by 23:30 JST" in text
    assert ack_link_in(text) == (escalation.pk, page.pk)


def test_webhook_text_cannot_mention_the_whole_channel(policy, tokyo):
    escalation = escalation_at(policy, summary="<!channel> help & <b>now</b>")
    page = Page.objects.select_related("recipient", "escalation__account").get(
        pk=page_to(escalation, tokyo, Page.Channel.WEBHOOK, address="http://127.0.0.1:9/").pk
    )
    text = webhook_text(page)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; help &amp; &lt;b&gt;now&lt;/b&gt;" in text


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "No chat webhook address"),
        ("not a url", "The chat webhook address is not a valid URL"),
        ("ftp://example.com/hook", "The chat webhook address is not an http(s) URL"),
    ],
)
def test_a_webhook_page_without_a_usable_address_fails_for_good(policy, tokyo, address, message):
    page = page_to(escalation_at(policy), tokyo, Page.Channel.WEBHOOK, address=address)
    with pytest.raises(DeliveryError) as error:
        sent(page)
    assert (error.value.message, error.value.permanent) == (message, True)


def test_an_email_page_without_an_address_fails_for_good(policy, tokyo):
    page = page_to(escalation_at(policy), tokyo, address="")
    with pytest.raises(DeliveryError) as error:
        sent(page)
    assert (error.value.message, error.value.permanent) == ("No e-mail address", True)
    assert mail.outbox == []


def test_a_mail_server_that_cannot_be_reached_is_a_failure_not_tried_again_in_the_pass(policy, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # discard: closed
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    escalation = escalation_at(policy)
    first, second = specialist_user(), specialist_user()
    page_to(escalation, first)
    page_to(escalation, second)

    report = pages_deliver(NOW)

    assert report.failed == 2
    # Sent side by side, the second either found the server down itself or was not tried.
    errors = sorted(Page.objects.values_list("last_error", flat=True))
    assert all(error.startswith("The mail server could not be reached (") for error in errors), errors


def test_the_intercom_note_is_written_as_the_raiser(policy, tokyo):
    escalation = escalation_at(policy, raised_by=tokyo)
    page = sent(page_to(escalation, tokyo, Page.Channel.INTERCOM, address=escalation.account.external_id))

    job = SyncJob.objects.get(kind=SyncJob.Kind.CONTACT_NOTE, key=f"escalation:{escalation.pk}")
    assert job.payload["external_id"] == page.address
    assert (job.payload["author_id"], job.payload["author_email"]) == (tokyo.pk, tokyo.email)
    body = job.payload["body"]
    assert body.startswith(
        f"SEV1 escalation ESC-{escalation.pk} raised 2027-03-05 14:00 UTC: Trader cannot withdraw"
    )
    assert f"/oncall/escalations/{escalation.pk}/" in body
    assert "/oncall/ack/" not in body  # the ack link is the paged person's, not the contact's


def test_an_sla_breach_note_reaches_intercom_as_the_apps_own_admin(intercom, policy, tokyo):
    call_command("intercom_setup", stdout=StringIO())
    RateBudget.objects.all().delete()
    escalation = escalation_at(policy, raised_by=None, source=Escalation.Source.SLA_BREACH)
    sent(page_to(escalation, tokyo, Page.Channel.INTERCOM, address=escalation.account.external_id))

    report = drain(client=IntercomClient(sleep=lambda s: None))

    assert not report.errors, report.errors
    contact_id = IntercomContact.objects.get(external_id=escalation.account.external_id).intercom_id
    notes = IntercomClient().request("GET", f"/contacts/{contact_id}/notes")["data"]
    [note] = notes
    assert note["author"]["id"] == ME_ADMIN_ID
    assert f"ESC-{escalation.pk}" in note["body"]


def test_an_intercom_page_of_an_account_without_external_id_fails_for_good(policy, tokyo):
    page = page_to(escalation_at(policy), tokyo, Page.Channel.INTERCOM, address="")
    with pytest.raises(DeliveryError) as error:
        sent(page)
    assert error.value.permanent
    assert not SyncJob.objects.filter(kind=SyncJob.Kind.CONTACT_NOTE).exists()
