"""The coverage-gaps panel on My day: Admins and Leadership see the stretches of the coming week in
which a rota's primary layer has nobody who can be paged; nothing when there are none; a fixed
number of queries however many rotas."""

import datetime as dt

import pytest
from django.urls import reverse

from oncall.rota_registrations import coverage_gaps_panel
from oncall.tests.test_rota_services import person, save_rota
from portal.tests.pages import link_to
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 3, 12, tzinfo=dt.UTC)
TITLE = "On-call coverage gaps"


@pytest.fixture(autouse=True)
def now(monkeypatch):
    return pinned_time(monkeypatch, NOW)


def test_admins_and_leadership_see_the_gaps_of_the_coming_week(client, portal_admin, leader, specialist):
    save_rota()  # covered from Monday 1 March
    save_rota("Weekend", layers={"Primary": [person("eve")]}, starts_on=dt.date(2027, 3, 6))
    for reader in (portal_admin, leader):
        client.force_login(reader)
        response = client.get(reverse("home"))
        text = response.content.decode()
        assert TITLE in text
        assert "Weekend" in text and "Wed 3 Mar, 12:00 to Sat 6 Mar, 09:00" in text
        assert link_to(response, "Open the rota") == reverse("oncall:overview")
    client.force_login(specialist)
    assert TITLE not in client.get(reverse("home")).content.decode()


def test_someone_who_left_makes_a_gap(client, portal_admin):
    rota = save_rota()
    ana = rota.layers.get(position=1).members.get(position=1).user
    client.force_login(portal_admin)
    assert TITLE not in client.get(reverse("home")).content.decode()
    ana.is_active = False
    ana.save()
    assert "Wed 3 Mar, 12:00 to Mon 8 Mar, 09:00" in client.get(reverse("home")).content.decode()


def test_nothing_is_shown_without_gaps(portal_admin):
    save_rota()
    assert coverage_gaps_panel(user=portal_admin) is None
    save_rota("Dormant", layers={"Primary": [person("eve")]}, starts_on=dt.date(2027, 6, 1), is_active=False)
    assert coverage_gaps_panel(user=portal_admin) is None


def test_the_panel_costs_the_same_queries_however_many_rotas(portal_admin, django_assert_max_num_queries):
    save_rota(starts_on=dt.date(2027, 3, 5))
    with django_assert_max_num_queries(5) as few:
        assert coverage_gaps_panel(user=portal_admin)
    for n in range(5):
        members = [person(f"p{n}-{m}") for m in range(8)]
        save_rota(
            f"Rota {n}", layers={"Primary": members, "Secondary": members}, starts_on=dt.date(2027, 3, 9)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(coverage_gaps_panel(user=portal_admin)["gaps"]) == 6
