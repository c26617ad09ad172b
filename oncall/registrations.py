"""How escalations plug into the portal: the case and account pages show an item's escalations
with an *Escalate* button, My day lists the escalations nobody has acknowledged, the navigation
links the list, and an SLA breach on a policy marked "escalate on breach" raises one."""

import logging
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.urls import reverse

from accounts.selectors import ACCOUNT_PANELS
from disputes.selectors import CASE_FACTS_PANELS
from oncall.models import Escalation
from oncall.selectors.escalations import ESCALATION_READERS, item_escalations
from oncall.services.escalations import escalation_raise
from portal.health import HealthCheck, register_health_check
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.page_panels import register_page_panel
from portal.roles import Role, has_role
from support.models import SlaClock, SlaEvent
from support.queue_actions import QueueAction, register_queue_action
from support.signals import sla_breached

logger = logging.getLogger(__name__)

register_nav_item(
    NavItem(
        label="Escalations",
        url_name="oncall:escalations",
        roles=ESCALATION_READERS,
        order=14,
        primary_for=(Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN),
    )
)


def _raise_url(clock) -> str:
    """Escalate from a queue row (a clock of support.selectors.queue_clocks())."""
    if clock.conversation_id:
        item = f"conversation={quote(clock.conversation.intercom_id)}"
    else:
        item = f"case={quote(clock.case.reference)}"
    return f"{reverse('oncall:escalation_raise')}?{item}"


register_queue_action(
    "oncall.escalate", QueueAction(label="Escalate", url=_raise_url, roles=(Role.SPECIALIST,))
)


def _item_panel(item_kind: str):
    def context(*, obj, user) -> dict | None:
        if not has_role(user, *ESCALATION_READERS):
            return None
        can_raise = has_role(user, Role.SPECIALIST)
        escalations = item_escalations(**{item_kind: obj})
        if not escalations and not can_raise:
            return None
        key = obj.reference if item_kind == "case" else obj.pk
        return {"escalations": escalations, "can_raise": can_raise, "item_kind": item_kind, "key": key}

    return context


register_page_panel(
    page=CASE_FACTS_PANELS,
    name="oncall.escalations",
    template="oncall/_case_escalations.html",
    context=_item_panel("case"),
    order=50,
)
register_page_panel(
    page=ACCOUNT_PANELS,
    name="oncall.escalations",
    template="oncall/_account_escalations.html",
    context=_item_panel("account"),
    order=20,
)

MYDAY_ROWS = 10


def unacknowledged_panel(*, user) -> dict | None:
    """Escalations nobody has acknowledged yet, oldest first: one query."""
    rows = list(
        Escalation.objects.filter(status=Escalation.Status.TRIGGERED).order_by("raised_at", "pk")[:MYDAY_ROWS]
    )
    return {"escalations": rows} if rows else None


register_panel(
    Panel(
        key="oncall-unacknowledged",
        title="Escalations waiting for a person",
        template="oncall/_myday_unacknowledged.html",
        roles=(Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN),
        build=unacknowledged_panel,
        order=0,
    )
)


@receiver(sla_breached, sender=SlaClock, dispatch_uid="oncall.escalate_on_breach")
def escalate_on_breach(sender, *, clock: SlaClock, event: SlaEvent, **kwargs) -> None:
    """A breach of a policy marked "escalate on breach" raises an escalation about the item (or
    adds to its open one). Sent after the breach commits; a failure here never undoes it."""
    related = ("policy", "conversation", "case")
    if not all(SlaClock._meta.get_field(name).is_cached(clock) for name in related):  # else as committed
        clock = SlaClock.objects.select_related(*related).filter(pk=clock.pk).first()
    if clock is None or not clock.policy.escalate_on_breach:
        return
    item = {"conversation": clock.conversation} if clock.conversation_id else {"case": clock.case}
    what = (
        clock.conversation.title or clock.conversation.intercom_id
        if clock.conversation_id
        else clock.case.reference
    )
    try:
        escalation_raise(
            by=None,
            severity=Escalation.Severity.SEV2,
            summary=f"SLA breached: {clock.get_metric_display().lower()} on {what}"[:300],
            sla_clock=clock,
            **item,
        )
    except ValidationError as refused:  # no default escalation policy, or one without steps
        logger.warning("SLA breach of clock %s not escalated: %s", clock.pk, " ".join(refused.messages))


def pages_health() -> dict:
    """Pages sent so far, pages failing now (retrying) and pages given up."""
    from django.db import DatabaseError
    from django.db.models import Count, Q

    from oncall.models import Page

    try:
        return Page.objects.aggregate(
            sent_total=Count("pk", filter=Q(status=Page.Status.SENT)),
            failing=Count("pk", filter=Q(status=Page.Status.FAILED)),
            given_up=Count("pk", filter=Q(status=Page.Status.DEAD)),
        )
    except DatabaseError as error:
        return {"error": error.__class__.__name__}


register_health_check(HealthCheck(key="pages", check=pages_health, order=130))
