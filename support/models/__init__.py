"""Support's models, a module per job: the conversation mirror, SLA calendars and policies, and
the applied SLA (clocks and their events). Import them from here."""

from support.models.clocks import SlaClock, SlaEvent
from support.models.conversations import Conversation, ImportWatermark
from support.models.policies import (
    MINUTES_PER_DAY,
    ONE_YEAR_MINUTES,
    BusinessCalendar,
    Holiday,
    OpeningWindow,
    SlaPolicy,
    minute_label,
)
from support.models.routing import RoutingDecision, RoutingRule, RoutingTeam

__all__ = [
    "MINUTES_PER_DAY",
    "ONE_YEAR_MINUTES",
    "BusinessCalendar",
    "Conversation",
    "Holiday",
    "ImportWatermark",
    "OpeningWindow",
    "RoutingDecision",
    "RoutingRule",
    "RoutingTeam",
    "SlaClock",
    "SlaEvent",
    "SlaPolicy",
    "minute_label",
]
