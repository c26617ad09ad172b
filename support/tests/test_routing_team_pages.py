"""Routing teams on the portal's own pages (Admins): listed with their members and whether
Intercom still has them, added and edited from the links, refused with a message when the input
cannot work, and not deleted while a rule names them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import specialist_user
from portal.tests.pages import form_on, link_to, submit
from support.models import RoutingRule, RoutingTeam

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams_page(client, portal_admin):
    client.force_login(portal_admin)
    return client.get(link_to(client.get(reverse("support:routing")), "Teams"))


def test_a_team_added_from_the_page_with_its_members_and_intercom_id(client, teams_page):
    ada, grace = specialist_user(first_name="Ada"), specialist_user(first_name="Grace")
    form = form_on(client.get(link_to(teams_page, "Add a team")), has_field="name")
    saved = submit(
        client, form, name="Whale desk", intercom_id=" 5017691 ", members=[str(ada.pk), str(grace.pk)]
    )
    assert saved.status_code == 302
    team = RoutingTeam.objects.get()
    assert (team.name, team.intercom_id, set(team.members.all())) == ("Whale desk", "5017691", {ada, grace})
    listed = client.get(saved["Location"]).content.decode()
    assert "Team “Whale desk” saved." in listed and "Team 5017691" in listed


def test_a_gone_team_says_so_and_a_new_intercom_id_brings_it_back(client, portal_admin):
    team = RoutingTeam.objects.create(name="Old desk", intercom_id="111", gone_at=timezone.now())
    client.force_login(portal_admin)
    listed = client.get(reverse("support:routing_teams"))
    assert "Intercom no longer has team 111" in listed.content.decode()
    edit = client.get(link_to(listed, "Old desk"))
    assert "the rules that name this team are skipped" in edit.content.decode()
    assert submit(client, form_on(edit, has_field="name"), intercom_id="222").status_code == 302
    team.refresh_from_db()
    assert (team.intercom_id, team.gone_at) == ("222", None)


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"intercom_id": "team-7"}, "intercom_id", "digits only"),
        ({"name": ""}, "name", "This field is required."),
        ({"name": "Taken"}, "name", "already exists"),
        ({"members": ["99999999999999999999"]}, "members", "Select a valid choice"),
    ],
)
def test_input_that_cannot_work_is_refused_on_the_form(client, teams_page, typed, field, message):
    RoutingTeam.objects.create(name="Taken")
    form = form_on(client.get(link_to(teams_page, "Add a team")), has_field="name")
    answer = submit(client, form, **{"name": "New desk", **typed})
    assert answer.status_code == 400
    assert message in " ".join(answer.context["form"].errors[field])
    assert RoutingTeam.objects.count() == 1


def test_a_team_a_rule_names_is_not_deleted_and_one_no_rule_names_is(client, portal_admin):
    named = RoutingTeam.objects.create(name="Named")
    free = RoutingTeam.objects.create(name="Free")
    RoutingRule.objects.create(position=1, name="To the named desk", assign="team", team=named)
    client.force_login(portal_admin)
    answers = {}
    for team in (named, free):
        edit = client.get(link_to(client.get(reverse("support:routing_teams")), team.name))
        confirm = client.get(link_to(edit, "Delete team"))
        answers[team.name] = submit(client, form_on(confirm, action=""))
    assert answers["Named"].status_code == 400 and answers["Free"].status_code == 302
    assert (
        "Rules name this team: “To the named desk”. Change them first." in answers["Named"].content.decode()
    )
    assert list(RoutingTeam.objects.values_list("name", flat=True)) == ["Named"]


def test_only_admins_reach_the_team_pages(client, specialist, leader):
    team = RoutingTeam.objects.create(name="Desk")
    urls = [
        reverse("support:routing_teams"),
        reverse("support:routing_team_new"),
        reverse("support:routing_team_edit", args=[team.pk]),
        reverse("support:routing_team_delete", args=[team.pk]),
    ]
    for person in (specialist, leader):
        client.force_login(person)
        assert {client.get(url).status_code for url in urls} == {403}
        assert client.post(urls[3]).status_code == 403
    assert RoutingTeam.objects.count() == 1
