"""SLA calendars and policies in the Django admin: Admins only, held to the services' rules."""

import pytest
from django.urls import reverse

from portal.roles import Role
from support.models import BusinessCalendar, OpeningWindow, SlaPolicy
from support.tests.factories import sla_defaults

pytestmark = pytest.mark.django_db

PAGES = ["admin:support_businesscalendar_changelist", "admin:support_slapolicy_changelist"]


@pytest.mark.parametrize("page", PAGES)
def test_only_admins_reach_the_sla_admin(client, people, page):
    for role, person in people.items():
        client.force_login(person)
        assert client.get(reverse(page)).status_code == (200 if role == Role.ADMIN else 302), role


def calendar_post(**changes):
    data = {
        "name": "Night desk",
        "time_zone": "Europe/London",
        "description": "",
        "windows-TOTAL_FORMS": 2,
        "windows-INITIAL_FORMS": 0,
        "windows-0-weekday": 0,
        "windows-0-start_minute": 1200,
        "windows-0-end_minute": 1440,
        "windows-1-weekday": 0,
        "windows-1-start_minute": 1380,
        "windows-1-end_minute": 1440,
        "holidays-TOTAL_FORMS": 0,
        "holidays-INITIAL_FORMS": 0,
    }
    return {**data, **changes}


def test_admin_form_refuses_overlapping_windows_and_unknown_zones_and_saves_nothing(client, portal_admin):
    client.force_login(portal_admin)
    response = client.post(
        reverse("admin:support_businesscalendar_add"), calendar_post(time_zone="Mars/Base")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not a known time zone" in html
    assert "Monday: 20:00–24:00 overlaps 23:00–24:00." in html
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()
    response = client.post(
        reverse("admin:support_businesscalendar_add"), calendar_post(**{"windows-TOTAL_FORMS": 1})
    )
    assert response.status_code == 302
    assert OpeningWindow.objects.filter(calendar__name="Night desk").count() == 1


def test_admin_form_refuses_a_catch_all_before_other_policies(client, portal_admin):
    sla_defaults()
    client.force_login(portal_admin)
    calendar = BusinessCalendar.objects.get(name="24/7")
    data = {
        "name": "Too early",
        "position": 0,
        "is_active": "on",
        "first_response_minutes": 60,
        "calendar": calendar.pk,
        "pause_while_waiting": "on",
        "warn_minutes": 15,
    }
    before = SlaPolicy.objects.count()
    response = client.post(reverse("admin:support_slapolicy_add"), data)
    assert response.status_code == 200
    assert "must be the last active policy" in response.content.decode()
    response = client.post(
        reverse("admin:support_slapolicy_add"), {**data, "kinds": ["case"], "venues": ["us"]}
    )
    assert response.status_code == 302
    assert SlaPolicy.objects.count() == before + 1
    assert SlaPolicy.objects.get(name="Too early").venues == ["us"]
