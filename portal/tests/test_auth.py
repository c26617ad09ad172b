import re

import pytest
from django.core import mail
from django.urls import reverse

from portal.roles import Role
from portal.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def person(db):
    return UserFactory(username="ana", email="ana@example.com", roles=[Role.SPECIALIST])


def test_login_with_the_right_password_opens_my_day(client, person):
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"My day" in response.content


def test_wrong_password_is_explained_on_the_form(client, person):
    response = client.post(reverse("login"), {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_login_even_with_the_right_password(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "ana", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_other_usernames_are_not_locked_by_someone_elses_failures(client, person, settings):
    UserFactory(username="ben", roles=[Role.SPECIALIST])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "ana", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "ben", "password": PASSWORD})
    assert response.status_code == 302


def test_logout_is_a_post_and_ends_the_session(client, person):
    client.force_login(person)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client, person):
    response = client.post(reverse("password_reset"), {"email": "ana@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}
    )
    assert done.status_code == 302

    person.refresh_from_db()
    assert person.check_password("a-new-long-passphrase")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, person):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert b"Check your e-mail" in response.content
    assert mail.outbox == []


def test_a_used_or_forged_reset_link_is_explained(client, person):
    response = client.get("/password/reset/MQ/forged-token/")
    assert b"This link no longer works" in response.content


def test_password_change_refuses_a_weak_password_with_a_message(client, person):
    client.force_login(person)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
