import pytest
from django.urls import reverse

from portal.myday import Panel, panels_for, register_panel, unregister_panel
from portal.roles import Role


@pytest.fixture
def follow_up_panel():
    register_panel(
        Panel(
            key="test-follow-ups",
            title="Follow-ups",
            template="portal_tests/_panel.html",
            roles=(Role.SPECIALIST,),
            build=lambda *, user: (
                {"items": [f"Call back {user.username}"]} if user.username == "spec" else None
            ),
        )
    )
    yield
    unregister_panel("test-follow-ups")


def test_my_day_says_plainly_when_nothing_is_set_up(client, leader):
    client.force_login(leader)
    response = client.get(reverse("home"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Nothing waiting for you" in text
    assert "Leadership" in text


def test_registered_panels_show_for_their_role(client, specialist, leader, follow_up_panel):
    client.force_login(specialist)
    assert "Call back spec" in client.get(reverse("home")).content.decode()
    client.force_login(leader)
    assert "Call back" not in client.get(reverse("home")).content.decode()


def test_a_panel_with_nothing_to_say_gives_the_empty_state(client, specialist, follow_up_panel):
    specialist.username = "someone-else"
    specialist.save()
    client.force_login(specialist)
    text = client.get(reverse("home")).content.decode()
    assert "No check-ins, cases, escalations or reviews need you right now." in text


def test_my_day_runs_a_fixed_number_of_queries(client, specialist, django_assert_max_num_queries):
    client.force_login(specialist)
    # session, user, roles, then one query per panel
    with django_assert_max_num_queries(3 + len(panels_for(specialist))):
        assert client.get(reverse("home")).status_code == 200


def test_navigation_marks_the_most_specific_section(client, specialist):
    client.force_login(specialist)
    links = client.get("/disputes/markets/").context["nav_links"]
    assert [link["label"] for link in links if link["current"]] == ["Markets"]
    links = client.get("/disputes/").context["nav_links"]
    assert [link["label"] for link in links if link["current"]] == ["Disputes"]


@pytest.mark.parametrize(
    "role_fixture, in_bar",
    [
        ("specialist", ["My day", "Accounts", "Queue", "Escalations", "Disputes"]),
        ("leader", ["My day", "Accounts", "Escalations", "Disputes", "Reports"]),
        ("product_person", ["My day", "Feedback", "Reports"]),
    ],
)
def test_the_bar_holds_a_roles_daily_sections_and_more_holds_the_rest(client, request, role_fixture, in_bar):
    """Thirteen sections do not fit on one line beside the search and the user menu: each role
    keeps its daily ones in the bar, the others under "More", marked when the page is one of them."""
    client.force_login(request.getfixturevalue(role_fixture))
    context = client.get("/").context
    bar = [link["label"] for link in context["nav_links"] if link["primary"]]
    more = [link["label"] for link in context["nav_more"]]
    assert bar == in_bar
    assert more and not set(more) & set(bar)
    assert set(bar) | set(more) == {link["label"] for link in context["nav_links"]}
    assert context["nav_more_current"] is None
    page = client.get("/playbooks/")
    assert page.context["nav_more_current"]["label"] == "Playbooks"
    assert 'class="is-current"' in page.content.decode()
