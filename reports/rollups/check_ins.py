"""The daily rollup of check-ins (reports.models.CheckInDay): check-ins held per UTC day and
specialist, productivity's "check-ins logged". Unlike the other rollups' instants, a check-in's
time can be edited to any day, earlier or later: its old day is kept nowhere, so before a check-in
is saved over, `check_in_moving` marks the day it stood on to be counted again (as a deleted
row's day is), and the refresh counts from there."""

from accounts.models import CheckIn
from reports.models import CheckInDay
from reports.rollups.days import UTC
from reports.rollups.moving import DayRollup, Event

HELD = "held"

CHECK_INS = DayRollup(
    name="check_ins",
    model=CheckInDay,
    rows=CheckIn.objects.all,
    origin="created_at",  # a new check-in counts from the earlier of its logging and its time
    events={HELD: Event("occurred_at", {"specialist": "specialist_id"})},
    columns={"specialist": "specialist_id"},
    count="check_ins",
)


def check_in_moving(sender, instance, raw=False, **kwargs) -> None:
    """pre_save of a CheckIn: the day its stored time falls on is counted again at the next
    refresh (one read of that time; nothing for a new check-in or a fixture load)."""
    if raw or instance.pk is None:
        return
    stored = CheckIn.objects.filter(pk=instance.pk).values_list("occurred_at", flat=True).first()
    if stored is None or stored == instance.occurred_at:
        return
    CHECK_INS.count_again_from(stored.astimezone(UTC).date())
