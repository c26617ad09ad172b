"""Adding, editing and deleting routing rules on the portal's own pages (Admins): reached from
the routing page's links, checked before anything is saved, placed last, order kept on delete."""

import pytest
from django.urls import reverse

from accounts.models import Tier
from accounts.tests.factories import specialist_user
from portal.tests.pages import form_on, link_to, submit
from support.models import RoutingRule, RoutingTeam
from support.routing.facts import MAX_WORDS, rule_specs

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, portal_admin):
    client.force_login(portal_admin)
    return client.get(reverse("support:routing"))


@pytest.fixture
def desk(db):
    team = RoutingTeam.objects.create(name="Whale desk", intercom_id="5017691")
    team.members.set([specialist_user()])
    return team


def new_rule_form(client, page):
    return form_on(client.get(link_to(page, "Add a rule")), has_field="name")


def test_a_rule_added_from_the_page_goes_last_and_routes_as_typed(client, page, desk):
    RoutingRule.objects.create(position=1, name="First", assign="owner")
    tier = Tier.objects.order_by("rank").first()
    saved = submit(
        client,
        new_rule_form(client, page),
        name="Whales to the desk",
        kinds=["case"],
        tiers=[str(tier.pk)],
        case_categories=["market_resolution"],
        min_amount="50000",
        words="resolved wrongly\nUMA, dispute",
        intercom_tags="vip, whale",
        assign="team",
        team=str(desk.pk),
        priority="urgent",
        add_tags="Routed, Whale",
    )
    assert saved.status_code == 302
    rule = RoutingRule.objects.get(name="Whales to the desk")
    assert rule.position == 2 and rule.is_active
    assert (rule.kinds, rule.case_categories, rule.intercom_tags) == (
        ["case"],
        ["market_resolution"],
        ["vip", "whale"],
    )
    assert list(rule.tiers.all()) == [tier] and rule.team == desk and rule.add_tags == ["Routed", "Whale"]
    spec = rule_specs()[-1]
    assert spec.words == ("resolved wrongly", "uma", "dispute") and spec.priority == "urgent"
    listed = client.get(saved["Location"]).content.decode()
    assert "Rule “Whales to the desk” saved as rule 2." in listed


def test_editing_a_rule_from_its_link_keeps_its_place(client, page, desk):
    RoutingRule.objects.create(position=1, name="Owner first", assign="owner", intercom_tags=["vip"])
    RoutingRule.objects.create(position=2, name="Rest", assign="nobody")
    page = client.get(reverse("support:routing"))
    form = form_on(client.get(link_to(page, "Owner first")), has_field="name")
    assert form.data["intercom_tags"] == ["vip"]
    saved = submit(client, form, name="Owner, else the desk", when_unavailable="team", team=str(desk.pk))
    assert saved.status_code == 302
    rule = RoutingRule.objects.get(position=1)
    assert (rule.name, rule.when_unavailable, rule.team) == ("Owner, else the desk", "team", desk)
    assert rule.intercom_tags == ["vip"]


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"assign": "team"}, "team", "Choose the team whose member gets it."),
        ({"assign": "person"}, "person", "Choose the person who gets it."),
        ({"assign": "owner", "when_unavailable": "team"}, "team", "Choose the team that gets it when"),
        ({"name": ""}, "name", "This field is required."),
        ({"min_amount": "-5"}, "min_amount", "greater than or equal to 0"),
        ({"min_amount": "lots"}, "min_amount", "Enter a number."),
        ({"assign": "everyone"}, "assign", "Select a valid choice."),
        ({"tiers": ["99999999999999999999"]}, "tiers", "Select a valid choice."),
        ({"add_tags": ",".join(f"t{n}" for n in range(51))}, "add_tags", "At most 50 tags"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_on_the_form_and_nothing_is_saved(
    client, page, desk, typed, field, message
):
    answer = submit(client, new_rule_form(client, page), **{"name": "Broken", "assign": "owner", **typed})
    assert answer.status_code == 400
    assert message in " ".join(answer.context["form"].errors[field])
    assert not RoutingRule.objects.exists()


def test_a_word_list_longer_than_routing_reads_is_refused_with_the_count(client, page):
    words = "\n".join(f"word{n}" for n in range(MAX_WORDS + 500))
    answer = submit(client, new_rule_form(client, page), name="Dictionary", assign="owner", words=words)
    assert answer.status_code == 400
    assert "at most 1,000 words and this list has 1,500" in " ".join(answer.context["form"].errors["words"])
    assert not RoutingRule.objects.exists()
    typed_back = form_on(answer, has_field="words").data["words"][0]
    assert typed_back.count("\n") == MAX_WORDS + 499  # what they typed is kept on the form


def test_a_person_who_left_or_a_team_intercom_deleted_cannot_be_chosen(client, page, desk):
    from django.utils import timezone

    gone = specialist_user()
    gone.is_active = False
    gone.save()
    desk.gone_at = timezone.now()
    desk.save()
    form = new_rule_form(client, page)
    assert str(desk.pk) not in form.options["team"] and str(gone.pk) not in form.options["person"]
    answer = submit(client, form, name="X", assign="person", person=str(gone.pk))
    assert answer.status_code == 400 and "Select a valid choice" in " ".join(
        answer.context["form"].errors["person"]
    )


def test_deleting_a_rule_closes_the_gap_in_the_order(client, page):
    first = RoutingRule.objects.create(position=1, name="First", assign="owner")
    RoutingRule.objects.create(position=2, name="Second", assign="owner")
    RoutingRule.objects.create(position=3, name="Third", assign="nobody")
    page = client.get(reverse("support:routing"))
    edit = client.get(link_to(page, "Second"))
    confirm = client.get(link_to(edit, "Delete rule"))
    assert confirm.status_code == 200 and "Delete rule Second?" in confirm.content.decode()
    done = submit(client, form_on(confirm, action=""))
    assert done.status_code == 302 and done["Location"] == reverse("support:routing")
    assert list(RoutingRule.objects.order_by("position").values_list("name", "position")) == [
        ("First", 1),
        ("Third", 2),
    ]
    assert first.position == 1


def test_only_admins_add_edit_or_delete_rules(client, specialist, leader, portal_admin):
    rule = RoutingRule.objects.create(position=1, name="First", assign="owner")
    urls = [
        reverse("support:routing_rule_new"),
        reverse("support:routing_rule_edit", args=[rule.pk]),
        reverse("support:routing_rule_delete", args=[rule.pk]),
    ]
    for person in (specialist, leader):
        client.force_login(person)
        assert [client.get(url).status_code for url in urls] == [403, 403, 403]
        assert client.post(urls[2]).status_code == 403
    client.logout()
    assert all(client.get(url).status_code == 302 for url in urls)
    client.force_login(portal_admin)
    assert client.get(reverse("support:routing_rule_edit", args=[rule.pk + 1000])).status_code == 404
    assert RoutingRule.objects.count() == 1
