import pytest
from django.urls import reverse

from portal.roles import Role
from portal.search import SearchResult, register_search_provider, unregister_search_provider


class ColourProvider:
    """A provider for tests: finds colours by name; `red` is an exact match."""

    key = "colours"
    label = "Colours"
    hint = "colour name"
    roles = (Role.SPECIALIST,)
    calls = 0

    def search(self, *, user, query, limit):
        ColourProvider.calls += 1
        names = ["red", "reddish", "green"]
        return [
            SearchResult(title=n, url=f"/colours/{n}/", detail="a colour", exact=n == query)
            for n in names
            if query in n
        ][:limit]


@pytest.fixture
def colours():
    register_search_provider(ColourProvider())
    yield
    unregister_search_provider("colours")


def test_results_are_grouped_by_provider(client, specialist, colours):
    client.force_login(specialist)
    response = client.get(reverse("search"), {"q": "ree"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Colours" in text and "/colours/green/" in text and "/colours/red/" not in text


def test_a_single_exact_match_opens_directly(client, specialist, colours):
    client.force_login(specialist)
    response = client.get(reverse("search"), {"q": "red"})
    assert response.status_code == 302
    assert response["Location"] == "/colours/red/"


def test_providers_are_only_asked_for_roles_they_serve(client, product_person, colours):
    ColourProvider.calls = 0
    client.force_login(product_person)
    response = client.get(reverse("search"), {"q": "red"})
    assert response.status_code == 200
    assert ColourProvider.calls == 0
    assert "Nothing matched" in response.content.decode()


def test_empty_and_oversized_queries_are_handled(client, specialist, colours):
    client.force_login(specialist)
    empty = client.get(reverse("search"), {"q": "   "})
    assert empty.status_code == 200
    assert "Colours</strong> by colour name" in empty.content.decode()
    long = client.get(reverse("search"), {"q": "x" * 5000})
    assert long.status_code == 200
    assert "x" * 201 not in long.content.decode()


def test_header_keeps_the_query_in_the_box(client, specialist, colours):
    client.force_login(specialist)
    response = client.get(reverse("search"), {"q": "gre"})
    assert 'value="gre"' in response.content.decode()
