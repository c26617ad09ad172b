import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reports.formatting import describe_change, format_duration, format_value
from reports.periods import PeriodForm

NEW_YORK = ZoneInfo("America/New_York")
TODAY = dt.date(2026, 11, 10)


def period(data, tz=NEW_YORK):
    form = PeriodForm(data, tz=tz, today=TODAY)
    return form, form.period()


def test_last_30_days_end_with_today_in_the_viewers_zone():
    _form, chosen = period({})
    assert chosen.start == dt.datetime(2026, 10, 12, tzinfo=NEW_YORK)
    assert chosen.end == dt.datetime(2026, 11, 11, tzinfo=NEW_YORK)
    assert chosen.days == 30 and chosen.params == (("range", "30d"),)


def test_a_period_over_the_clock_change_keeps_whole_local_days():
    _form, chosen = period({"range": "7d"})  # 4 to 10 November; DST ended on 1 November
    previous = chosen.previous()
    assert previous.start == dt.datetime(2026, 10, 28, tzinfo=NEW_YORK)
    assert previous.end == chosen.start
    utc = dt.UTC
    assert previous.end.astimezone(utc) - previous.start.astimezone(utc) == dt.timedelta(days=7, hours=1)


def test_a_month_is_its_local_days_and_is_compared_with_as_many_days_before():
    _form, chosen = period({"range": "month", "month": "2026-02"})
    assert (chosen.start, chosen.end, chosen.label) == (
        dt.datetime(2026, 2, 1, tzinfo=NEW_YORK),
        dt.datetime(2026, 3, 1, tzinfo=NEW_YORK),
        "February 2026",
    )
    assert chosen.previous().start == dt.datetime(2026, 1, 4, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"range": "month", "month": "2027-01"}, "month"),
        ({"range": "custom", "start": "2026-12-01", "end": "2026-12-02"}, "start"),
        ({"range": "custom", "end": "2026-11-02"}, "start"),
    ],
)
def test_unreadable_periods_fall_back_to_the_default_with_the_error_on_the_field(data, field):
    form, chosen = period(data)
    assert field in form.errors
    assert chosen.params == (("range", "30d"),)


@pytest.mark.parametrize(
    "seconds, words",
    [(42, "42 s"), (90, "2 min"), (3599, "60 min"), (5400, "1.5 h"), (2.5 * 86400, "2.5 days")],
)
def test_durations_read_as_waits(seconds, words):
    assert format_duration(seconds) == words


def test_changes_are_told_in_words_with_their_direction():
    better = describe_change(92.0, 88.5, "percent", "up")
    assert (better.words, better.tone, better.arrow) == ("up 3.5 points from 88.5%", "good", "▲")
    slower = describe_change(3600, 2400, "seconds", "down")
    assert (slower.words, slower.tone) == ("up 50% from 40 min", "bad")
    assert describe_change(10, 10, "count", None).words == "no change from 10"
    assert describe_change(None, 10, "count", "up").tone == "neutral"
    assert format_value(None, "percent") == "—" and format_value(12345, "count") == "12,345"
