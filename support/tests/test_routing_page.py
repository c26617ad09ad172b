"""/support/routing/ for Admins: the rules in order with broken ones marked, moved and switched
from the page's own buttons, and the Test form explaining each rule for a real or described item."""

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account, specialist_user
from disputes.services.cases import dispute_file
from portal.services import user_set_working_hours
from portal.tests.pages import form_on, submit
from support.models import RoutingRule, RoutingTeam

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db):
    gone = specialist_user()
    vip = RoutingRule.objects.create(
        position=1, name="VIP words", words="vip\nwhale", assign="person", person=gone
    )
    big = RoutingRule.objects.create(position=2, name="Big money", min_amount=100000, assign="owner")
    catch_all = RoutingRule.objects.create(position=3, name="Everything else", assign="nobody")
    gone.is_active = False
    gone.save()
    return vip, big, catch_all


def test_only_admins_reach_the_page(client, specialist, leader, portal_admin):
    for person, status in ((specialist, 403), (leader, 403), (portal_admin, 200)):
        client.force_login(person)
        assert client.get(reverse("support:routing")).status_code == status


def test_the_rules_in_order_in_words_with_the_broken_one_marked(client, portal_admin, rules):
    client.force_login(portal_admin)
    page = client.get(reverse("support:routing")).content.decode()
    assert page.index("VIP words") < page.index("Big money") < page.index("Everything else")
    assert "mentions “vip”, “whale”" in page and "at stake at least 100,000.00" in page
    assert 'Broken</span> <span class="muted">its person is no longer active' in page


def test_move_and_switch_with_the_pages_buttons(client, portal_admin, rules):
    vip, big, _ = rules
    client.force_login(portal_admin)
    page = client.get(reverse("support:routing"))
    moved = submit(client, form_on(page, action_contains=f"/routing/{big.pk}/move/"), button=("move", "up"))
    assert moved.status_code == 302
    big.refresh_from_db()
    vip.refresh_from_db()
    assert (big.position, vip.position) == (1, 2)
    page = client.get(moved["Location"])
    switched = submit(
        client, form_on(page, action_contains=f"/routing/{vip.pk}/active/"), button=("active", "0")
    )
    vip.refresh_from_db()
    assert switched.status_code == 302 and not vip.is_active


def test_the_test_form_explains_each_rule_for_a_described_item(client, portal_admin, rules):
    client.force_login(portal_admin)
    page = client.get(reverse("support:routing"))
    result = submit(
        client,
        form_on(page, has_field="case_category"),
        kind="case",
        amount="250000",
        text="whale here",
    )
    text = result.content.decode()
    assert result.status_code == 200
    assert "VIP words: broken (its person is no longer active): skipped" in text
    assert "Big money: its person is not available: on to the next rule" in text
    assert "Everything else: left unassigned" in text and "Nobody would get it" in text


def test_the_test_form_takes_a_real_case_and_says_who_would_get_it_now(client, portal_admin, rules):
    owner = specialist_user()
    user_set_working_hours(user=owner, days=["00:00-24:00"] * 7)
    RoutingRule.objects.filter(name="VIP words").delete()
    case = dispute_file(
        by=owner, account=make_account(owner=owner), category="order_execution", claim="x", assignee=owner,
        amount_at_stake=150000,
    )  # fmt: skip
    client.force_login(portal_admin)
    page = client.get(reverse("support:routing"))
    result = submit(client, form_on(page, has_field="case_category"), item=case.reference)
    assert f"{owner.display_name} would get it" in result.content.decode()
    missing = submit(client, form_on(page, has_field="case_category"), item="DSP-1999-00001")
    assert missing.status_code == 400
    assert "No conversation has that Intercom id and no case that reference." in missing.content.decode()


def test_a_team_intercom_no_longer_has_is_marked_broken(client, portal_admin, db):
    team = RoutingTeam.objects.create(name="Night desk", intercom_id="77")
    RoutingRule.objects.create(position=1, name="Nights", assign="team", team=team)
    team.gone_at = team.created_at
    team.save()
    client.force_login(portal_admin)
    assert "Intercom no longer has its team" in client.get(reverse("support:routing")).content.decode()


def test_a_rule_with_more_words_than_are_read_says_so(client, portal_admin, db):
    RoutingRule.objects.create(position=1, name="Long", words="\n".join(f"w{n}" for n in range(5000)))
    client.force_login(portal_admin)
    page = client.get(reverse("support:routing")).content.decode()
    assert "(only the first 1,000 of its 5,000 words are read)" in page


def test_bad_input_on_the_routing_page_gets_a_message_and_changes_nothing(client, portal_admin, rules):
    vip, big, _ = rules
    client.force_login(portal_admin)
    moved = client.post(
        reverse("support:routing_rule_move", args=[big.pk]), {"move": "sideways"}, follow=True
    )
    assert "Choose whether the rule moves up or down." in moved.content.decode()
    switched = client.post(
        reverse("support:routing_rule_active", args=[vip.pk]), {"active": "maybe"}, follow=True
    )
    assert "Choose whether the rule is on or off." in switched.content.decode()
    assert client.post(reverse("support:routing_rule_move", args=[999999]), {"move": "up"}).status_code == 404
    assert client.get(reverse("support:routing_rule_move", args=[big.pk])).status_code == 405
    assert list(RoutingRule.objects.order_by("position").values_list("name", "is_active")) == [
        ("VIP words", True),
        ("Big money", True),
        ("Everything else", True),
    ]
    page = client.get(reverse("support:routing"))
    refused = submit(client, form_on(page, has_field="case_category"), amount="a lot", kind="parcel")
    assert refused.status_code == 400
    assert (
        "Enter a number." in refused.content.decode() and "Select a valid choice." in refused.content.decode()
    )


def test_the_routing_and_teams_pages_take_the_same_queries_for_3_or_30_rules_and_teams(
    client, portal_admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Tier

    tier = Tier.objects.order_by("rank").first()
    client.force_login(portal_admin)

    def grow(to: int) -> None:
        for n in range(RoutingRule.objects.count(), to):
            team = RoutingTeam.objects.create(name=f"Desk {n}", intercom_id=str(n))
            team.members.set([specialist_user()])
            rule = RoutingRule.objects.create(
                position=n + 1, name=f"Rule {n}", assign="team", team=team, person=specialist_user()
            )
            rule.tiers.set([tier])

    counts = {}
    for size in (3, 30):
        grow(size)
        for name in ("support:routing", "support:routing_teams"):
            with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name)).status_code == 200
            counts[name, size] = len(queries)
    assert counts["support:routing", 3] == counts["support:routing", 30], counts
    assert counts["support:routing_teams", 3] == counts["support:routing_teams", 30], counts
