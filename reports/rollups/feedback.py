"""The daily rollups of the feedback loop: items logged, first triaged and first shipped per UTC
day (reports.models.FeedbackDay), and follow-ups done, users told (reports.models.FollowUpDay),
each per category and product area of the item, the triaged, shipped and told ones also per the
band of their wait (stored on the rows, feedback.waits), so that a median is read from the rows
of one band through their index (rollups.clocks' banded percentiles). An item's first triage and
shipping only ever move forward from its logging, a follow-up is done after it is made: kept exact as rollups.moving says. A follow-up
whose item moves to another area is touched by feedback.services, and so counted again."""

from feedback.models import FeedbackItem, FollowUp
from reports.aggregates import seconds_between
from reports.models import FeedbackDay, FollowUpDay
from reports.rollups.moving import DayRollup, Event

LOGGED, TRIAGED, SHIPPED, TOLD = "logged", "triaged", "shipped", "told"
# The wait each event is timed by: (the annotation holding it, its start, its end, the stored
# column holding its band).
WAITS = {
    TRIAGED: ("triage_wait", "created_at", "triaged_at", "triage_band"),
    SHIPPED: ("ship_wait", "triaged_at", "shipped_at", "ship_band"),
    TOLD: ("told_wait", "created_at", "done_at", "told_band"),
}
_PLACE = {"category": "category", "area": "area_id"}
COLUMNS = {"category": "category", "area": "area_id", "band": "band"}


def _with_waits(rows, *events: str):
    return rows.annotate(**{WAITS[event][0]: seconds_between(*WAITS[event][1:3]) for event in events})


def items_with_waits():
    """Feedback items with their waits to triage (`triage_wait`) and shipping (`ship_wait`),
    in seconds (their bands are the stored `triage_band` and `ship_band`)."""
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
        TRIAGED: Event("triaged_at", {**_PLACE, "band": "triage_band"}),
        SHIPPED: Event("shipped_at", {**_PLACE, "band": "ship_band"}),
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
        TOLD: Event("done_at", {"category": "item__category", "area": "item__area_id", "band": "told_band"})
    },
    columns=COLUMNS,
    count="follow_ups",
)
