"""The wait bands the database stores on each item and follow-up (feedback.waits): the band the
reports' medians read by, so it must be the band of the wait to the microsecond."""

import datetime as dt
from bisect import bisect_right

import pytest

from accounts.tests.factories import make_account
from feedback.models import FeedbackItem, FollowUp
from feedback.tests.factories import FeedbackItemFactory
from feedback.waits import DAY, HOUR, WAIT_BANDS

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 2, 9, 0, 0, 250_000, tzinfo=dt.UTC)
# Waits in seconds around the bands' edges: just under, on, just over; none; and negative.
WAITS = [
    0.0,
    HOUR - 0.000001,
    HOUR,
    HOUR + 0.000001,
    36 * HOUR,
    3 * DAY - 1,
    364.5 * DAY,
    365 * DAY,
    400 * DAY,
    -5.0,
]


def _band(seconds):
    return None if seconds is None else bisect_right(WAIT_BANDS, seconds)


def _after(seconds):
    return START + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [*WAITS, None])
def test_an_items_bands_are_those_of_its_waits(seconds):
    item = FeedbackItemFactory()
    later = None if seconds is None else _after(seconds)
    FeedbackItem.objects.filter(pk=item.pk).update(created_at=START, triaged_at=START, shipped_at=later)
    FeedbackItem.objects.filter(pk=item.pk).update(created_at=_after(-7 * DAY))
    item.refresh_from_db()
    assert item.triage_band == _band(7 * DAY)
    assert item.ship_band == _band(seconds)


@pytest.mark.parametrize("seconds", [*WAITS, None])
def test_a_follow_ups_band_is_that_of_its_wait(seconds, specialist):
    item = FeedbackItemFactory()
    done_at = None if seconds is None else _after(seconds)
    follow_up = FollowUp.objects.create(
        item=item,
        account=make_account(owner=specialist),
        owner=specialist,
        outcome="shipped",
        created_at=START,
        done_at=done_at,
    )
    follow_up.refresh_from_db()
    assert follow_up.told_band == _band(seconds)


def test_a_band_follows_a_later_change_of_its_instants():
    item = FeedbackItemFactory()
    FeedbackItem.objects.filter(pk=item.pk).update(created_at=START, triaged_at=_after(2 * HOUR))
    item.refresh_from_db()
    assert item.triage_band == 2 and item.ship_band is None
    FeedbackItem.objects.filter(pk=item.pk).update(triaged_at=_after(10 * DAY))
    item.refresh_from_db()
    assert item.triage_band == _band(10 * DAY) == 14
