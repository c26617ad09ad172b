"""What support adds to an account page: the account's open items whose SLA is breached.
Accounts sits below support and cannot import it, so support fills the account page's panel
spot (accounts.selectors.ACCOUNT_PANELS)."""

from django.db.models import Q
from django.utils import timezone

from accounts.selectors import ACCOUNT_PANELS
from portal.page_panels import register_page_panel
from portal.roles import has_role
from support.models import SlaClock
from support.selectors import SLA_READERS, QueueState, queue_item_link, queue_state_filter


def account_breaches(*, obj, user) -> dict | None:
    """The account's conversations and cases with a running clock past its due time, once each
    (its most overdue clock), with a link to each: the case page or the Intercom inbox. None
    when there is none, or for a person who may not read SLA material. One query."""
    if not has_role(user, *SLA_READERS):
        return None
    now = timezone.now()
    clocks = (
        SlaClock.objects.filter(Q(conversation__account=obj) | Q(case__account=obj))
        .filter(queue_state_filter(QueueState.BREACHED, now))
        .select_related("conversation", "case")
        .only(
            "conversation__intercom_id",
            "conversation__title",
            "case__reference",
            "case__claim",
            *(f.name for f in SlaClock._meta.concrete_fields),
        )
        .order_by("due_at", "pk")
    )
    items: dict[tuple, SlaClock] = {}
    for clock in clocks:
        key = ("conversation", clock.conversation_id) if clock.conversation_id else ("case", clock.case_id)
        if key not in items:
            queue_item_link(clock)
            items[key] = clock
    if not items:
        return None
    return {"items": list(items.values()), "count": len(items)}


register_page_panel(
    page=ACCOUNT_PANELS,
    name="support.sla_breaches",
    template="support/_account_sla_panel.html",
    context=account_breaches,
)
