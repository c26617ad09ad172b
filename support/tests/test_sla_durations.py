"""What a clock keeps for the reports: how long an achieved target took (wall and working
time) and its item's tier and assignee."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.tests.factories import make_account
from support.models import SlaClock
from support.tests.factories import make_calendar, only_policy, pinned_time, week
from support.tests.test_sla_clocks import FIRST, RESOLUTION, T0, Talk

pytestmark = pytest.mark.django_db


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


@pytest.fixture
def policy(time):
    return only_policy()


def test_an_achieved_clock_keeps_its_wall_and_working_durations(time):
    london = ZoneInfo("Europe/London")
    office = make_calendar("London office", time_zone="Europe/London", windows=week("09:00", "17:00"))
    only_policy(calendar=office)
    time.now = dt.datetime(2027, 3, 5, 16, 30, tzinfo=london)  # a Friday, half an hour before closing
    talk = Talk(time)
    assert (talk.clock(FIRST).wall_seconds, talk.clock(FIRST).working_seconds) == (None, None)

    time.now = dt.datetime(2027, 3, 8, 9, 30, tzinfo=london)  # Monday, half an hour after opening
    talk.we_reply()

    first = talk.clock(FIRST)
    assert first.wall_seconds == (2 * 24 + 17) * 3600  # Friday 16:30 to Monday 09:30
    assert first.working_seconds == 60 * 60  # the two office half-hours
    assert talk.clock(RESOLUTION).wall_seconds is None  # still running


def test_a_paused_clock_counts_its_pause_in_wall_time_only(policy, time):
    talk = Talk(time)
    time.advance(minutes=30)
    talk.we_reply()
    time.advance(minutes=120)
    talk.user_writes()
    time.advance(minutes=10)
    talk.we_reply()
    time.advance(minutes=5)  # paused again: the last word is ours
    talk.close()

    resolution = talk.clock(RESOLUTION)
    assert resolution.status == "hit"
    assert (resolution.wall_seconds, resolution.working_seconds) == (165 * 60, 40 * 60)


def test_a_clock_carries_its_items_tier_and_assignee_for_the_reports(policy, time, specialist):
    from support.tests.factories import make_conversation

    account = make_account(owner=specialist, tier_rank=2)
    conversation = make_conversation(account, assignee=specialist)
    clocks = SlaClock.objects.filter(conversation=conversation)
    assert clocks.exists()
    assert {(c.item_tier_id, c.item_assignee_id) for c in clocks} == {(account.tier_id, specialist.pk)}
