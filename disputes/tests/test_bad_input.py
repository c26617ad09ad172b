"""Bad input on the markets and rulebook pages: a 4xx or a message, never a 500."""

import pytest
from django.urls import reverse

from disputes.models import Market, RulebookSection
from disputes.services import market_create_manual, rulebook_section_save

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999"


@pytest.fixture
def web(client, portal_admin, specialist):
    specialist.groups.add(*portal_admin.groups.all())  # both roles: every page is open to them
    client.force_login(specialist)
    client.raise_request_exception = False
    return client


@pytest.fixture
def market(specialist):
    return market_create_manual(by=specialist, question="Q?", rules_text="Rules.", outcomes=["Yes", "No"])


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "-5"},
        {"per_page": HUGE},
        {"page": "abc"},
        {"page": HUGE},
        {"sort": "nonexistent"},
        {"venue": "mars"},
        {"state": "bogus"},
        {"uma": "x"},
        {"clarified": "maybe"},
        {"q": "x" * 10_000},
        {"q": "\x00"},
        {"q": "' OR 1=1 --"},
        {"q": "https://polymarket.com/event/"},
    ],
)
def test_market_list_survives_garbage(web, params):
    assert web.get(reverse("disputes:market_list"), params).status_code in (200, 400)


@pytest.mark.parametrize(
    "path", [f"/disputes/markets/{HUGE}/", f"/disputes/rulebook/{HUGE}/", f"/disputes/markets/{HUGE}/diff/"]
)
def test_huge_ids_are_404(web, path):
    assert web.get(path).status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"at": "0001-01-01T00:00"}, {"at": "9999-12-31T23:59"}, {"at": "garbage"}, {"at": ""}],
)
def test_rules_at_with_a_bad_time_is_a_message(web, market, params):
    response = web.get(reverse("disputes:market_detail", args=[market.pk]), params)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"text": "x", "published_at": "0001-01-01T00:00"},
        {"text": "x", "published_at": "2026-13-45T00:00"},
        {"text": "x", "published_at": "2026-01-01T00:00", "source_url": "javascript:alert(1)"},
        {"text": "\x00", "published_at": "2026-01-01T00:00"},
    ],
)
def test_bad_clarifications_are_400_and_write_nothing(web, market, data):
    response = web.post(reverse("disputes:market_clarify", args=[market.pk]), data)
    assert response.status_code == 400
    assert market.rule_versions.count() == 1 and not market.clarification_records.exists()


@pytest.mark.parametrize("reference", ["", "x" * 600, "\x00", "javascript:alert(1)", "0x123"])
def test_bad_import_references_are_400(web, reference):
    response = web.post(reverse("disputes:market_import"), {"reference": reference})
    assert response.status_code == 400
    assert not Market.objects.filter(source="gamma").exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"question": "Q", "venue": "us", "outcomes": "Yes", "rules_text": "R"},
        {"question": "Q", "venue": "mars", "outcomes": "Yes\nNo", "rules_text": "R"},
        {
            "question": "Q",
            "venue": "us",
            "outcomes": "Yes\nNo",
            "rules_text": "R",
            "end_date": "0001-01-01T00:00",
        },
        {"question": "Q", "venue": "us", "outcomes": "Yes\nNo", "rules_text": "R", "slug": "not a slug!"},
    ],
)
def test_bad_manual_markets_are_400(web, data):
    before = Market.objects.count()
    assert web.post(reverse("disputes:market_new"), data).status_code == 400
    assert Market.objects.count() == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"venue": "us", "number": "x.y", "title": "T", "body": "B", "effective_from": "2026-01-01"},
        {"venue": "us", "number": "1", "title": "T", "body": "B", "effective_from": "0001-01-01"},
        {"venue": "us", "number": "1", "title": " ", "body": "B", "effective_from": "2026-01-01"},
    ],
)
def test_bad_rulebook_sections_are_400(web, data):
    assert web.post(reverse("disputes:rulebook_section_new"), data).status_code == 400
    assert not RulebookSection.objects.exists()


def test_rulebook_with_an_unknown_venue_shows_the_default(web, portal_admin):
    rulebook_section_save(
        by=portal_admin,
        venue="international",
        number="1",
        title="Scope",
        body="B",
        effective_from="2026-01-01",
    )
    assert web.get(reverse("disputes:rulebook"), {"venue": "mars"}).status_code == 200
