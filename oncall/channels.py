"""Sending one page through its channel: an e-mail, a post to a Slack-compatible incoming webhook,
or a note on the trader's Intercom contact (recorded in the outbox, which delivers and retries it).

`Pager` sends the pages of one delivery pass: one mail connection and one HTTP session for all of
them, and a mail server or webhook that could not be reached is not tried again in the same pass
(a chat webhook that never answers would otherwise hold every page behind it for its timeout).
Every failure is a `DeliveryError` with a short, human message that is stored on the page; a
`permanent` one (no address, an address that is not a URL) will not get better by retrying.

Pages are read with `PAGE_RELATED` loaded, so sending runs no query (but the Intercom note's
outbox write)."""

import contextlib
import datetime as dt
import smtplib
import zoneinfo
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncJob
from integrations.outbox import outbox_record
from oncall.models import Escalation, Page
from oncall.tokens import ack_url
from support.selectors import conversation_url

PAGE_RELATED = (
    "recipient",
    "escalation__case__account",
    "escalation__conversation",
    "escalation__account",
    "escalation__raised_by",
)
DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 5


class DeliveryError(Exception):
    """A page did not go out. `message` is stored on the page as its last error."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class PagedItem:
    """What an escalation is about, in words and as an absolute link."""

    label: str
    url: str


def paged_item(escalation: Escalation) -> PagedItem:
    if escalation.case_id:
        case = escalation.case
        return PagedItem(
            f"case {case.reference} ({case.account.display_name})",
            _absolute(reverse("disputes:case_detail", args=[case.reference])),
        )
    if escalation.conversation_id:
        conversation = escalation.conversation
        title = _one_line(conversation.title)[:80] or conversation.intercom_id
        # Without a working Intercom link, the account's page (its timeline shows the conversation).
        fallback = (
            _absolute(reverse("accounts:detail", args=[conversation.account_id]))
            if conversation.account_id
            else escalation_url(escalation)
        )
        return PagedItem(f"conversation “{title}”", conversation_url(conversation.intercom_id) or fallback)
    return PagedItem(
        f"account {escalation.account.display_name}",
        _absolute(reverse("accounts:detail", args=[escalation.account_id])),
    )


def escalation_url(escalation: Escalation) -> str:
    return _absolute(reverse("oncall:escalation_detail", args=[escalation.pk]))


def page_subject(page: Page) -> str:
    escalation = page.escalation
    still = " (still unacknowledged)" if page.round > 0 else ""
    return f"[{escalation.get_severity_display()}] Escalation ESC-{escalation.pk}{still}: {_one_line(escalation.summary)}"


def webhook_timeout() -> float:
    return float(getattr(settings, "ONCALL_WEBHOOK_TIMEOUT_SECONDS", DEFAULT_WEBHOOK_TIMEOUT_SECONDS))


class Pager:
    """Sends pages; use as a context manager so its connections are closed. One per thread (the
    pagers of one pass share what they learnt is unreachable)."""

    def __init__(self, *, unreachable: dict[str, str] | None = None):
        self._mail = None
        self._http = requests.Session()
        # requests reads the proxy settings from the environment on every call (a scan of
        # os.environ each time); read them once per address instead, with the same result.
        self._http.trust_env = False
        self._proxies: dict[str, dict] = {}
        # address (or "mail") -> why, for the rest of the pass; shared by the pagers of one pass
        self.unreachable: dict[str, str] = {} if unreachable is None else unreachable

    def __enter__(self) -> "Pager":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._close_mail()
        self._http.close()

    def send(self, page: Page) -> None:
        """Send `page` (with PAGE_RELATED loaded) through its channel; raises DeliveryError."""
        send = {
            Page.Channel.EMAIL: self._email,
            Page.Channel.WEBHOOK: self._webhook,
            Page.Channel.INTERCOM: self._intercom,
        }.get(page.channel)
        if send is None:
            raise DeliveryError(f"Unknown channel “{page.channel}”", permanent=True)
        send(page)

    # --- e-mail ---------------------------------------------------------------------------------

    def _email(self, page: Page) -> None:
        if not page.address:
            raise DeliveryError("No e-mail address", permanent=True)
        if "mail" in self.unreachable:
            raise DeliveryError(self.unreachable["mail"] + "; not tried again in this pass")
        message = EmailMessage(
            subject=page_subject(page), body=_email_body(page), from_email=None, to=[page.address]
        )
        try:
            if self._mail is None:
                self._mail = get_connection(fail_silently=False)
                self._mail.open()
            message.connection = self._mail
            message.send()
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"The mail server refused {page.address}") from error
        except smtplib.SMTPServerDisconnected as error:
            self._close_mail()  # reconnect for the next page
            raise DeliveryError("The mail server hung up") from error
        except smtplib.SMTPException as error:
            raise DeliveryError(f"The mail server refused the message ({_short(error)})") from error
        except OSError as error:  # refused, unreachable, timed out: the next page would wait too
            self._close_mail()
            self.unreachable["mail"] = f"The mail server could not be reached ({_short(error)})"
            raise DeliveryError(self.unreachable["mail"]) from error

    def _close_mail(self) -> None:
        if self._mail is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):  # already gone: nothing to close
                self._mail.close()
            self._mail = None

    # --- chat webhook ---------------------------------------------------------------------------

    def _webhook(self, page: Page) -> None:
        url = page.address
        if not url:
            raise DeliveryError("No chat webhook address", permanent=True)
        if url in self.unreachable:
            raise DeliveryError(self.unreachable[url] + "; not tried again in this pass")
        timeout = webhook_timeout()
        try:
            if url not in self._proxies:
                self._proxies[url] = requests.utils.get_environ_proxies(url)
            response = self._http.post(
                url,
                json={"text": webhook_text(page)},
                timeout=(timeout, timeout),
                allow_redirects=False,
                proxies=self._proxies[url],
            )
        except requests.ConnectTimeout as error:
            self.unreachable[url] = f"Chat webhook could not be reached within {timeout:g} s"
            raise DeliveryError(self.unreachable[url]) from error
        except requests.Timeout as error:
            self.unreachable[url] = f"Chat webhook did not answer within {timeout:g} s"
            raise DeliveryError(self.unreachable[url]) from error
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as error:
            raise DeliveryError("The chat webhook address is not a valid URL", permanent=True) from error
        except requests.exceptions.InvalidSchema as error:
            raise DeliveryError("The chat webhook address is not an http(s) URL", permanent=True) from error
        except requests.RequestException as error:
            self.unreachable[url] = f"Chat webhook could not be reached ({type(error).__name__})"
            raise DeliveryError(self.unreachable[url]) from error
        with response:
            if not 200 <= response.status_code < 300:
                raise DeliveryError(f"Chat webhook answered {response.status_code}")

    # --- Intercom note --------------------------------------------------------------------------

    def _intercom(self, page: Page) -> None:
        """Recording the outbox job is this page's success: delivering it to Intercom, with its
        retries, is the outbox's job (shown on /integrations/sync/). The payload is the same each
        time, so sending the page again records nothing new."""
        if not page.address:
            raise DeliveryError("The account has no Intercom contact (no external id)", permanent=True)
        escalation = page.escalation
        author = escalation.raised_by  # None for an SLA breach: the note is written as the app's admin
        with transaction.atomic():
            outbox_record(
                kind=SyncJob.Kind.CONTACT_NOTE,
                key=f"escalation:{escalation.pk}",
                payload={
                    "external_id": page.address,
                    "author_id": author.pk if author else None,
                    "author_email": author.email if author else "",
                    "body": intercom_note(escalation)[:2000],
                },
            )


def _email_body(page: Page) -> str:
    escalation, recipient = page.escalation, page.recipient
    context = {
        "page": page,
        "escalation": escalation,
        "item": paged_item(escalation),
        "raised_by": escalation.raised_by.display_name if escalation.raised_by else None,
        "ack_url": ack_url(escalation_id=escalation.pk, page_id=page.pk),
        "escalation_url": escalation_url(escalation),
    }
    # Times read in the recipient's own time zone.
    with timezone.override(_time_zone(recipient)):
        return render_to_string("oncall/email/page.txt", context)


def webhook_text(page: Page) -> str:
    """The chat message: plain text with bare links (every Slack-compatible tool shows those),
    `&`, `<` and `>` escaped so a summary cannot mention `<!channel>`."""
    escalation, recipient = page.escalation, page.recipient
    item = paged_item(escalation)
    due = f"{_local(escalation.ack_deadline_at, _time_zone(recipient)):%H:%M %Z}"
    acknowledge = f"Acknowledge (it was due by {due})" if page.round else f"Acknowledge by {due}"
    who = recipient.display_name if recipient else "whoever is on call"
    lines = [
        page_subject(page),
        f"About: {item.label} {item.url}",
        f"Paged: {who} (step {page.step})",
        f"{acknowledge}: {ack_url(escalation_id=escalation.pk, page_id=page.pk)}",
    ]
    text = "\n".join(lines)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def intercom_note(escalation: Escalation) -> str:
    """The note on the trader's contact: what, when (UTC, so the text is the same every time it
    is recorded) and where to follow it in the portal."""
    item = paged_item(escalation)
    raised = escalation.raised_at.astimezone(dt.UTC)
    return (
        f"{escalation.get_severity_display()} escalation ESC-{escalation.pk} raised "
        f"{raised:%Y-%m-%d %H:%M} UTC: {_one_line(escalation.summary)}\n"
        f"About {item.label}: {item.url}\n"
        f"Follow it in the portal: {escalation_url(escalation)}"
    )


def _time_zone(user) -> str:
    return (user.time_zone if user else "") or settings.TIME_ZONE


def _local(moment: dt.datetime, zone: str) -> dt.datetime:
    try:
        return moment.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(dt.UTC)


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _short(error: Exception) -> str:
    return (str(error) or type(error).__name__)[:200]
