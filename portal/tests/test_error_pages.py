from django.test import Client
from django.urls import reverse
from django.views.defaults import server_error

from portal.tests.factories import UserFactory


def test_unknown_page_gets_the_portal_404(client, specialist):
    client.force_login(specialist)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "We can’t find that page" in text and 'class="site-header"' in text


def test_wrong_role_gets_the_portal_403(client, db):
    client.force_login(UserFactory())  # signed in, but holds no role
    response = client.get(reverse("search"))
    assert response.status_code == 403
    assert "You don’t have access to this page" in response.content.decode()


def test_expired_form_gets_the_portal_csrf_page(specialist):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(specialist)
    response = strict.post(reverse("preferences"), {"time_zone": "UTC"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_server_error_page_renders_without_any_context(rf):
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
