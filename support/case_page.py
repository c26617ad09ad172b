"""What support adds to a dispute case page. Disputes sits below support and cannot import it,
so support adds the linked Intercom conversation and the case's SLA clocks to the case page's
facts as page panels."""

from django.utils import timezone

from disputes.selectors import CASE_FACTS_PANELS
from portal.page_panels import register_page_panel
from portal.roles import has_role
from support.models import RoutingDecision, SlaClock
from support.selectors import SLA_READERS, QueueState, linked_conversation, queue_time_left
from support.tables import STATE_BADGES, time_left_text

# A finished clock's state on the page: achieved in time, or late (or stopped once due).
FINISHED_BADGES = {
    SlaClock.Status.HIT: ("Hit", "badge--ok"),
    SlaClock.Status.MISSED: ("Missed", "badge--danger"),
}


def sla_clock_rows(clocks: list[SlaClock], now) -> list[SlaClock]:
    """Set `state`, `state_label`, `state_badge` and, on running clocks, `time_left_text` (working
    time in the policy's calendar, as the queue shows it). Clocks need `policy` loaded; three
    queries for the calendars when one is running, none otherwise."""
    running = [clock for clock in clocks if clock.is_running]
    if running:
        queue_time_left(running, now)
    for clock in clocks:
        if clock.is_running:
            clock.state_label = QueueState(clock.state).label
            clock.state_badge = STATE_BADGES[clock.state]
            clock.time_left_text = time_left_text(clock.time_left, clock.state)
        else:
            clock.state = clock.status
            clock.state_label, clock.state_badge = FINISHED_BADGES[clock.status]
            clock.time_left_text = ""
    return clocks


def case_conversation(*, obj, user) -> dict | None:
    """The case's conversation as the mirror knows it, with its Intercom link; None when the case
    links none. One query."""
    return linked_conversation(obj.intercom_conversation_id)


def case_sla(*, obj, user) -> dict | None:
    """The case's SLA clocks of its current cycle — per metric the latest cycle that counts
    (cancelled ones left out) — with due time, state and working time left. None for a person
    who may not read SLA material, or a case without clocks. One query for the clocks with their
    policy, and three for the calendars when a clock is running."""
    if not has_role(user, *SLA_READERS):
        return None
    clocks = (
        SlaClock.objects.filter(case=obj).exclude(status=SlaClock.Status.CANCELLED).select_related("policy")
    )
    latest: dict[str, SlaClock] = {}
    for clock in clocks.order_by("metric", "cycle"):
        latest[clock.metric] = clock
    if not latest:
        return None
    order = list(SlaClock.Metric.values)
    rows = sla_clock_rows(sorted(latest.values(), key=lambda c: order.index(c.metric)), timezone.now())
    return {"clocks": rows, "breached": any(row.state == QueueState.BREACHED for row in rows)}


register_page_panel(
    page=CASE_FACTS_PANELS,
    name="support.conversation",
    template="support/_case_conversation_panel.html",
    context=case_conversation,
)
register_page_panel(
    page=CASE_FACTS_PANELS,
    name="support.sla",
    template="support/_case_sla_panel.html",
    context=case_sla,
    order=90,
)


def case_routing(*, obj, user) -> dict | None:
    """How routing decided the case's first assignee, when it did. One query."""
    decision = RoutingDecision.objects.select_related("assignee", "team").filter(case=obj).first()
    return {"decision": decision} if decision else None


register_page_panel(
    page=CASE_FACTS_PANELS,
    name="support.routing",
    template="support/_case_routing_panel.html",
    context=case_routing,
    order=95,
)
