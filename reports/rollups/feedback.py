"""The daily rollups of the feedback loop: items logged, first triaged and first shipped per UTC
day (reports.models.FeedbackDay), and follow-ups done, users told (reports.models.FollowUpDay),
each per category and product area of the item, the triaged, shipped and told ones also per the
band of their wait, so that a median is read from the rows of one band (rollups.clocks'
banded percentiles). An item's first triage and shipping only ever move forward from its
logging, a follow-up is done after it is made: kept exact as rollups.moving says. A follow-up
whose item moves to another area is touched by feedback.services, and so counted again."""

from feedback.models import FeedbackItem, FollowUp
from reports.aggregates import seconds_between
from reports.models import FeedbackDay, FollowUpDay
from reports.rollups.clocks import band_expression
from reports.rollups.moving import DayRollup, Event

LOGGED, TRIAGED, SHIPPED, TOLD = "logged", "triaged", "shipped", "told"
HOUR, DAY = 3600, 86400
# Wait bands, upper bounds in seconds (exclusive), as rollups.clocks.BANDS: feedback waits
# hours to months.
WAIT_BANDS = (
    HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, DAY, 36 * HOUR, 2 * DAY, 3 * DAY, 4 * DAY,
    5 * DAY, 6 * DAY, 7 * DAY, 10 * DAY, 14 * DAY, 21 * DAY, 30 * DAY, 45 * DAY, 60 * DAY,
    90 * DAY, 120 * DAY, 180 * DAY, 270 * DAY, 365 * DAY,
)  # fmt: skip
# The wait each event is timed by: (the annotation holding it, its start, its end).
WAITS = {
    TRIAGED: ("triage_wait", "created_at", "triaged_at"),
    SHIPPED: ("ship_wait", "triaged_at", "shipped_at"),
    TOLD: ("told_wait", "created_at", "done_at"),
}
_PLACE = {"category": "category", "area": "area_id"}
COLUMNS = {"category": "category", "area": "area_id", "band": "band"}


def _with_waits(rows, *events: str):
    waits = {WAITS[event][0]: seconds_between(*WAITS[event][1:]) for event in events}
    bands = {f"{WAITS[event][0]}_band": band_expression(WAITS[event][0], WAIT_BANDS) for event in events}
    return rows.annotate(**waits).annotate(**bands)


def items_with_waits():
    """Feedback items with their waits to triage (`triage_wait`) and shipping (`ship_wait`),
    in seconds, and those waits' bands."""
    return _with_waits(FeedbackItem.objects.all(), TRIAGED, SHIPPED)


def follow_ups_with_waits():
    """Follow-ups with their wait from the item's closing to the user told (`told_wait`)."""
    return _with_waits(FollowUp.objects.all(), TOLD)


ITEMS = DayRollup(
    name="feedback_items",
    model=FeedbackDay,
    rows=items_with_waits,
    origin="created_at",
    events={
        LOGGED: Event("created_at", _PLACE),
        TRIAGED: Event("triaged_at", {**_PLACE, "band": "triage_wait_band"}),
        SHIPPED: Event("shipped_at", {**_PLACE, "band": "ship_wait_band"}),
    },
    columns=COLUMNS,
    count="items",
)

FOLLOW_UPS = DayRollup(
    name="feedback_follow_ups",
    model=FollowUpDay,
    rows=follow_ups_with_waits,
    origin="created_at",
    events={
        TOLD: Event(
            "done_at", {"category": "item__category", "area": "item__area_id", "band": "told_wait_band"}
        )
    },
    columns=COLUMNS,
    count="follow_ups",
)
