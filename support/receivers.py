"""Support listens to what the apps below it announce (they never import support), and to its own
SLA announcements (support.signals) for what it sends people."""

from django.conf import settings
from django.core.mail import send_mail
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from disputes.models import DisputeCase
from disputes.signals import case_changed
from portal.forms import specialists
from support.models import SlaClock, SlaEvent
from support.selectors import conversation_url
from support.signals import sla_warning
from support.sla.clocks import sla_evaluate_case


@receiver(case_changed, sender=DisputeCase, dispatch_uid="support.sla_case_changed")
def case_clocks_follow(sender, *, case: DisputeCase, what: str, **kwargs) -> None:
    """A case filed, moved, replied to or decided: its SLA clocks follow, in the same transaction."""
    sla_evaluate_case(case)


@receiver(sla_warning, sender=SlaClock, dispatch_uid="support.sla_warning_mail")
def warning_mail(sender, *, clock: SlaClock, event: SlaEvent, **kwargs) -> None:
    """E-mail the item's assignee when one of its clocks reaches its warning time; an unassigned
    item goes to every active Specialist. Sent once: the warning event is recorded once per clock
    and the signal follows that record. Nothing is sent when the clock stopped meanwhile or nobody
    has an e-mail address."""
    clock = (
        SlaClock.objects.select_related("policy", "conversation__assignee", "case__assignee", "case__account")
        .filter(pk=clock.pk)
        .first()
    )
    if clock is None or not clock.is_running:
        return
    item = clock.conversation or clock.case
    if item.assignee_id:
        recipients = [item.assignee] if item.assignee.is_active else []
    else:
        recipients = list(specialists())
    recipients = sorted({person.email: person for person in recipients if person.email}.items())
    if not recipients:
        return
    if clock.conversation_id:
        what, url = f"conversation “{item.title or item.intercom_id}”", conversation_url(item.intercom_id)
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
