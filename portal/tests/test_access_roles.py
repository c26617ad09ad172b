"""Role × page: what each role gets on every page. Every named page must appear here."""

import pytest
from django.urls import reverse

from portal.roles import Role
from portal.tests.urlwalk import walk_urls

S, L, P, A = Role.SPECIALIST, Role.LEADERSHIP, Role.PRODUCT, Role.ADMIN

# url name -> expected status per role (302 where the page redirects on GET).
EXPECTED = {
    "home": {S: 200, L: 200, P: 200, A: 200},
    "search": {S: 200, L: 200, P: 200, A: 200},
    "preferences": {S: 200, L: 200, P: 200, A: 200},
    "password_change": {S: 200, L: 200, P: 200, A: 200},
    "password_change_done": {S: 200, L: 200, P: 200, A: 200},
    "healthz": {S: 200, L: 200, P: 200, A: 200},
    "admin:index": {S: 302, L: 302, P: 302, A: 200},
    "admin:portal_user_changelist": {S: 302, L: 302, P: 302, A: 200},
    "admin:django_q_schedule_changelist": {S: 302, L: 302, P: 302, A: 200},
}
# Pages outside the role table: signed-out flows, POST-only actions, and the admin's own
# pages (guarded as a whole by PortalAdminSite.has_permission, checked above and in test_roles).
NOT_ROLE_PAGES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def test_every_page_has_a_row_in_the_role_table():
    names = {u.name for u in walk_urls() if u.name and not u.name.startswith("admin:")}
    missing = names - EXPECTED.keys() - NOT_ROLE_PAGES
    assert not missing, f"add these pages to the role table: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [S, L, P, A])
@pytest.mark.parametrize("url_name", sorted(EXPECTED))
def test_role_gets_expected_status(client, people, role, url_name):
    client.force_login(people[role])
    response = client.get(reverse(url_name))
    assert response.status_code == EXPECTED[url_name][role]


@pytest.mark.django_db
def test_signed_in_person_without_a_role_is_refused_my_day(client):
    from portal.tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "ask an Admin" in response.content.decode()
