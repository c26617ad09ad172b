"""Walk every URL of the project as an anonymous visitor: nothing but the public pages answers."""

from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from portal.tests.urlwalk import walk_urls

# Pages anyone may open, and machine endpoints that answer 401/403 on their own.
PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "healthz_ready",
    "admin:login",
}
# The Intercom webhook is public by design: it refuses unsigned notifications itself (401),
# and any method but POST (405); /metrics refuses whoever has neither its token nor an allowed
# address (403), and any method but GET (405).
MACHINE_ENDPOINTS: set[str] = {"integrations:intercom_webhook", "metrics"}

WALKED = walk_urls()


def test_the_walk_covers_the_project():
    names = {u.name for u in WALKED}
    assert {"home", "search", "preferences", "healthz", "admin:index", "login"} <= names
    for url in WALKED:
        try:
            resolve(urlsplit(url.path).path)
        except Resolver404:  # pragma: no cover - a failure here means the walker is wrong
            pytest.fail(f"walked path {url.path} ({url.name}) does not resolve")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [u for u in WALKED if u.name not in PUBLIC], ids=lambda u: u.name or u.path)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_login(client, url, method):
    response = getattr(client, method)(url.path)
    if url.name in MACHINE_ENDPOINTS:
        refused = (401, 403) if method == "post" and url.name != "metrics" else (401, 403, 405)
        assert response.status_code in refused, f"{url.path} answered {response.status_code}"
        return
    assert response.status_code == 302, f"{url.path} answered {response.status_code}"
    target = urlsplit(response["Location"]).path
    assert target in ("/login/", "/admin/login/"), f"{url.path} redirected to {target}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", [u for u in WALKED if u.name in PUBLIC], ids=lambda u: u.name)
def test_public_pages_answer_without_login(client, url):
    response = client.get(url.path)
    assert response.status_code in (200, 302), f"{url.path} answered {response.status_code}"
