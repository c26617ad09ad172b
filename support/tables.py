"""The SLA policy list, and the words the SLA pages use for a policy's conditions and targets."""

import datetime as dt
import math

import django_tables2 as tables

from accounts.models import Venue
from disputes.models import DisputeCase
from portal.tables import PortalTable
from support.forms import duration_text
from support.models import SlaClock, SlaPolicy
from support.queue_actions import queue_actions_for
from support.routing.facts import routing_decisions
from support.selectors import QueueState, queue_item_link, queue_time_left
from support.sla.matching import CONDITIONS, SlaFacts

CONDITION_LABELS = {
    "kinds": dict(SlaPolicy.Kind.choices),
    "case_categories": dict(DisputeCase.Category.choices),
    "priorities": dict(DisputeCase.Priority.choices),
    "venues": dict(Venue.choices),
}


def condition_values(policy: SlaPolicy, condition: str) -> list[str]:
    """What one condition of a policy allows, in words (tiers as prefetched)."""
    if condition == "tiers":
        return [tier.name for tier in policy.tiers.all()]
    labels = CONDITION_LABELS[condition]
    return [str(labels.get(code, code)) for code in getattr(policy, condition)]


def conditions_in_words(policy: SlaPolicy) -> list[tuple[str, str]]:
    """(condition, allowed values) for each condition the policy sets, in the order matching
    checks them; empty for the catch-all."""
    return [
        (label, ", ".join(values))
        for condition, label in CONDITIONS.items()
        if (values := condition_values(policy, condition))
    ]


def fact_in_words(facts: SlaFacts, condition: str, *, tier_name: str | None) -> str:
    """The item's value for one condition, as the which-policy tool shows it."""
    value = {
        "kinds": facts.kind,
        "tiers": tier_name,
        "case_categories": facts.case_category,
        "priorities": facts.priority,
        "venues": facts.venue,
    }[condition]
    if value is None:
        return "none (no account)" if condition in ("tiers", "venues") else "none"
    if condition == "tiers":
        return value
    return str(CONDITION_LABELS[condition].get(value, value))


def targets_in_words(policy: SlaPolicy) -> list[tuple[str, str]]:
    return [
        (label, duration_text(getattr(policy, field)))
        for field, label in (
            ("first_response_minutes", "First response"),
            ("next_response_minutes", "Next response"),
            ("resolution_minutes", "Resolution"),
        )
        if getattr(policy, field) is not None
    ]


class PolicyTable(PortalTable):
    """The ordered policy list. Feed it `support.sla.matching.policies_in_order(active_only=
    False)` (calendar and tiers loaded): no column runs a query."""

    position = tables.Column(verbose_name="#", attrs={"td": {"class": "num"}})
    name = tables.Column()
    conditions = tables.Column(verbose_name="Applies to", empty_values=())
    targets = tables.Column(empty_values=())
    calendar = tables.Column(accessor="calendar__name")
    pause_while_waiting = tables.BooleanColumn(verbose_name="Pauses")
    warn_minutes = tables.Column(verbose_name="Warns")
    escalate_on_breach = tables.BooleanColumn(verbose_name="Escalates")
    is_active = tables.BooleanColumn(verbose_name="Active")
    actions = tables.TemplateColumn(
        template_name="support/sla/_policy_actions.html", verbose_name="", empty_values=()
    )

    class Meta(PortalTable.Meta):
        model = SlaPolicy
        fields = []
        sequence = (
            "position",
            "name",
            "conditions",
            "targets",
            "calendar",
            "pause_while_waiting",
            "warn_minutes",
            "escalate_on_breach",
            "is_active",
            "actions",
        )
        orderable = False
        empty_text = "No policies yet: nothing gets an SLA until one is added."

    def render_conditions(self, record):
        words = conditions_in_words(record)
        if not words:
            return "Everything (catch-all)"
        return " · ".join(f"{label.capitalize()}: {values}" for label, values in words)

    def render_targets(self, record):
        return " · ".join(f"{label} {value}" for label, value in targets_in_words(record))

    def render_warn_minutes(self, value):
        return f"{duration_text(value)} ahead" if value else "no warning"


def time_left_text(left: dt.timedelta, state: str) -> str:
    """Working time left, in minutes rounded toward the deadline: "1 h 30 min left",
    "overdue by 45 min", "paused, 2 h left"."""
    minutes = math.ceil(abs(left) / dt.timedelta(minutes=1))
    if state == QueueState.PAUSED:
        return f"paused, {duration_text(max(0, math.floor(left / dt.timedelta(minutes=1))))} left"
    if left <= dt.timedelta(0):
        return f"overdue by {duration_text(minutes)}"
    return f"{duration_text(math.floor(left / dt.timedelta(minutes=1)))} left"


STATE_BADGES = {
    QueueState.BREACHED: "badge--danger",
    QueueState.WARNING: "badge--warn",
    QueueState.ON_TRACK: "badge--ok",
    QueueState.PAUSED: "badge--muted",
}


class QueueTable(PortalTable):
    """The queue: one row per open item, its most urgent running clock (feed it
    `support.selectors.queue_clocks()`). Rows are written out in support/_queue_table.html,
    one cell per column in this order; `annotate_page` works out the SLA state and time left of
    the rows on the page only."""

    kind = tables.Column(empty_values=(), orderable=False)
    item = tables.Column(verbose_name="Conversation or case", empty_values=(), orderable=False)
    account = tables.Column(empty_values=(), orderable=False)
    assignee = tables.Column(empty_values=(), orderable=False)
    metric = tables.Column(orderable=False)
    state = tables.Column(verbose_name="SLA", empty_values=(), orderable=False)
    time_left = tables.Column(verbose_name="Time left", empty_values=(), orderable=False)
    due_at = tables.Column(verbose_name="Due", orderable=False)
    intercom_sla = tables.Column(verbose_name="Intercom SLA", empty_values=(), orderable=False)

    class Meta(PortalTable.Meta):
        model = SlaClock
        fields = []
        sequence = (
            "kind", "item", "account", "assignee", "metric", "state", "time_left", "due_at", "intercom_sla"
        )  # fmt: skip
        empty_text = "Nothing in the queue matches: no open item with a running SLA clock."
        template_name = "support/_queue_table.html"

    def annotate_page(self, now: dt.datetime, user) -> None:
        """State, badge, time left, links, routing's decision and the row actions `user` may take
        (registered by the apps above, support.queue_actions) of the page's rows (three queries
        for calendars, one for the decisions)."""
        clocks = [row.record for row in self.paginated_rows]
        queue_time_left(clocks, now)
        actions = queue_actions_for(user)
        for clock in clocks:
            clock.state_label = QueueState(clock.state).label
            clock.state_badge = STATE_BADGES[clock.state]
            clock.time_left_text = time_left_text(clock.time_left, clock.state)
            queue_item_link(clock)
            clock.actions = [(action.label, action.url(clock)) for action in actions]
        routed = routing_decisions(clocks)
        for clock in clocks:
            clock.routing = routed.get(
                ("conversation", clock.conversation_id) if clock.conversation_id else ("case", clock.case_id)
            )
