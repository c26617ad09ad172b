"""The SLA warning e-mail: sent by a task after the warnings are recorded (support.tasks), never
inside the minute pass, so a slow mail server cannot hold up the clocks."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.forms import specialists
from support.models import SlaClock
from support.selectors import conversation_url


def sla_warning_mails(clock_ids: list[int]) -> int:
    """E-mail each clock's item's assignee that the clock reached its warning time; an
    unassigned item goes to every active Specialist. One query for the clocks and one for the
    Specialists, however many warnings. Nothing is sent for a clock that stopped meanwhile, or
    to nobody with an e-mail address. Returns how many messages went out."""
    clocks = SlaClock.objects.select_related(
        "policy", "conversation__assignee", "case__assignee", "case__account"
    ).filter(pk__in=list(clock_ids), status__in=SlaClock.RUNNING)
    everyone = None
    sent = 0
    for clock in clocks.order_by("pk"):
        item = clock.conversation or clock.case
        if item.assignee_id:
            recipients = [item.assignee] if item.assignee.is_active else []
        else:
            if everyone is None:
                everyone = list(specialists())
            recipients = everyone
        sent += _mail(clock, item, recipients)
    return sent


def _mail(clock: SlaClock, item, recipients) -> int:
    recipients = sorted({person.email: person for person in recipients if person.email}.items())
    if not recipients:
        return 0
    if clock.conversation_id:
        what = f"conversation “{item.title or item.intercom_id}”"
        # Without a working Intercom link, the account's page (its timeline shows the conversation).
        account_page = reverse("accounts:detail", args=[item.account_id]) if item.account_id else ""
        url = conversation_url(item.intercom_id) or settings.PORTAL_BASE_URL + account_page
    else:
        what = f"case {item.reference}"
        url = settings.PORTAL_BASE_URL + reverse("disputes:case_detail", args=[item.reference])
    context = {
        "clock": clock,
        "item": item,
        "what": what,
        "url": url,
        "assigned": bool(item.assignee_id),
        "base_url": settings.PORTAL_BASE_URL,
    }
    subject = f"SLA warning: {clock.get_metric_display().lower()} on {what} is due soon"
    for email, person in recipients:
        # One message each, so the due time reads in the recipient's own time zone.
        with timezone.override(person.time_zone or settings.TIME_ZONE):
            message = render_to_string("support/email/sla_warning.txt", context)
        send_mail(subject=subject, message=message, from_email=None, recipient_list=[email])
    return len(recipients)
