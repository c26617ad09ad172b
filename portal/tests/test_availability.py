"""Who is available for routing: on shift (in their own working hours, read in their zone, or on
call) and not marked away; set on the Preferences page and with the header's away toggle."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from oncall.tests.factories import make_rota
from portal.availability import available, is_away, is_working, on_shift_ids, parse_day
from portal.models import User
from portal.services import user_set_away, user_set_working_hours
from portal.tests.pages import form_on, submit

NEW_YORK = ZoneInfo("America/New_York")
WEEK = ["09:00-17:00"] * 5 + ["", ""]


def at(day: int, hour: int, minute: int = 0, zone=NEW_YORK) -> dt.datetime:
    """A moment in the week of Monday 1 March 2027."""
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("", []),
        ("09:00-17:00", [(540, 1020)]),
        ("9:00 - 12:30, 13:30–18:00", [(540, 750), (810, 1080)]),
        ("22:00-06:00", [(1320, 360)]),
        ("00:00-24:00", [(0, 1440)]),
    ],
)
def test_a_day_of_windows_is_read_as_typed(text, windows):
    assert parse_day(text) == windows


@pytest.mark.parametrize("text", ["9-5", "09:00", "25:00-26:00", "09:61-10:00", "09:00-09:00", "24:00-01:00"])
def test_a_window_it_cannot_read_is_refused_with_the_window_named(text):
    with pytest.raises(ValidationError) as refused:
        parse_day(text)
    assert text.split(",")[0].split("-")[0].strip()[:2] in refused.value.messages[0]


def test_working_hours_are_read_in_the_persons_zone_and_may_run_past_midnight(db):
    person = User.objects.create(username="ny", time_zone="America/New_York")
    user_set_working_hours(user=person, days=[*WEEK[:4], "22:00-06:00", "", ""])
    assert is_working(person, at(1, 9))  # Monday 09:00 in New York
    assert not is_working(person, at(1, 8, 59))
    assert not is_working(person, at(1, 9, zone=dt.UTC))  # 04:00 in New York
    assert is_working(person, at(5, 23))  # Friday night…
    assert is_working(person, at(6, 5, 59))  # …into Saturday morning
    assert not is_working(person, at(6, 6))
    assert not is_working(person, at(7, 12))  # Sunday: no hours


def test_away_until_a_return_time_then_available_again(db):
    person = User.objects.create(username="away", time_zone="America/New_York")
    user_set_working_hours(user=person, days=WEEK)
    user_set_away(user=person, away=True, until=at(1, 12), now=at(1, 8))
    assert is_away(person, at(1, 11)) and not available(person, at(1, 11), on_shift=set())
    assert not is_away(person, at(1, 12)) and available(person, at(1, 12), on_shift=set())
    with pytest.raises(ValidationError):
        user_set_away(user=person, away=True, until=at(1, 7), now=at(1, 8))


def test_on_call_is_on_shift_outside_working_hours(db):
    rota = make_rota(starts_on=dt.date(2027, 3, 1), handoff_time=dt.time(9, 0), time_zone="UTC")
    first, second = (m.user for m in rota.layers.get(position=1).members.order_by("position"))
    saturday_night = at(6, 23, zone=dt.UTC)
    assert first.pk in on_shift_ids(saturday_night)
    assert available(first, saturday_night) and not available(second, saturday_night)
    first.is_active = False
    assert not available(first, saturday_night)


def test_the_preferences_page_saves_working_hours_and_explains_a_bad_window(client, specialist):
    client.force_login(specialist)
    page = client.get(reverse("preferences"))
    form = form_on(page, action_contains="/me/hours/")
    refused = submit(client, form, monday="09:00-17:00", tuesday="9 to 5")
    assert refused.status_code == 400
    assert "“9 to 5” is not a window: write it as 09:00-17:00." in refused.content.decode()
    specialist.refresh_from_db()
    assert specialist.working_hours == []
    saved = submit(client, form_on(refused, action_contains="/me/hours/"), tuesday="10:00-18:00")
    assert saved.status_code == 302
    specialist.refresh_from_db()
    assert specialist.working_hours == [[0, 540, 1020], [1, 600, 1080]]
    assert 'value="10:00-18:00"' in client.get(reverse("preferences")).content.decode()


def test_the_headers_toggle_marks_away_and_back(client, specialist):
    client.force_login(specialist)
    page = client.get(reverse("home"))
    away = submit(client, form_on(page, action_contains="/me/away/"), button=("away", "1"))
    assert away.status_code == 302
    specialist.refresh_from_db()
    assert specialist.is_away and specialist.away_until is None
    page = client.get(away["Location"])
    assert "nothing new is routed to you" in page.content.decode()
    back = submit(client, form_on(page, action_contains="/me/away/"), button=("away", "0"))
    specialist.refresh_from_db()
    assert back.status_code == 302 and not specialist.is_away


def test_a_past_return_time_is_refused_with_a_message(client, specialist):
    client.force_login(specialist)
    page = client.get(reverse("home"))
    refused = submit(
        client, form_on(page, action_contains="/me/away/"), button=("away", "1"), until="2001-01-01T09:00"
    )
    specialist.refresh_from_db()
    assert not specialist.is_away
    assert "The return time has passed" in client.get(refused["Location"]).content.decode()


def test_an_unreadable_return_time_is_refused_and_nothing_changes(client, specialist):
    client.force_login(specialist)
    page = client.get(reverse("home"))
    refused = submit(
        client, form_on(page, action_contains="/me/away/"), button=("away", "1"), until="next tuesday-ish"
    )
    specialist.refresh_from_db()
    assert refused.status_code == 302 and not specialist.is_away
    assert "Enter a valid date/time." in client.get(refused["Location"]).content.decode()
