"""How long the feedback loop kept people waiting, and the bands those waits are counted in.

An item waits from its logging to its first triage and from there to its first shipping; a
follow-up waits from its making (the item shipped or declined) to the user told. Each row stores
the band of its wait (a generated column: the database keeps it), so that the reports' medians
read the rows of one band through an index (reports.rollups.feedback) rather than every row of
a period."""

from portal.expressions import band_case, seconds_between

HOUR, DAY = 3600, 86400
# Upper bounds in seconds (exclusive): band i holds [WAIT_BANDS[i-1], WAIT_BANDS[i]), the last
# band everything from a year on. Hours to months, as feedback waits go.
WAIT_BANDS = (
    HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, DAY, 36 * HOUR, 2 * DAY, 3 * DAY, 4 * DAY,
    5 * DAY, 6 * DAY, 7 * DAY, 10 * DAY, 14 * DAY, 21 * DAY, 30 * DAY, 45 * DAY, 60 * DAY,
    90 * DAY, 120 * DAY, 180 * DAY, 270 * DAY, 365 * DAY,
)  # fmt: skip


def wait_band(start: str, end: str):
    """The band of the wait from `start` to `end` (field names); NULL until `end` is set."""
    return band_case(seconds_between(start, end), WAIT_BANDS)
