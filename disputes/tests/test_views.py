import datetime as dt

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from disputes.models import Market
from disputes.services import clarification_record, market_upsert_from_gamma, rulebook_section_save
from disputes.tests.factories import gamma_market, gamma_payload

pytestmark = pytest.mark.django_db
GAMMA = "https://gamma-api.polymarket.com"


@pytest.fixture
def market(specialist):
    return market_upsert_from_gamma(data=gamma_market(), by=specialist).market


def test_market_list_filters_and_query_count_does_not_grow(
    client, leader, specialist, django_assert_max_num_queries
):
    for n in range(30):
        market_upsert_from_gamma(
            data=gamma_market(id=str(n), conditionId=f"0x{n:064x}", slug=f"m-{n}"), by=specialist
        )
    client.force_login(leader)
    with django_assert_max_num_queries(10) as small:
        response = client.get(reverse("disputes:market_list"), {"per_page": 5})
    with django_assert_max_num_queries(10) as large:
        client.get(reverse("disputes:market_list"), {"per_page": 30})
    assert len(small.captured_queries) == len(large.captured_queries)
    assert response.status_code == 200
    closed = client.get(reverse("disputes:market_list"), {"state": "open"})
    assert len(closed.context["table"].rows) == 0


@responses.activate
def test_import_form_imports_and_opens_the_market(client, specialist):
    responses.get(f"{GAMMA}/markets/1689303", json=gamma_payload("market_1689303.json"))
    client.force_login(specialist)
    response = client.post(reverse("disputes:market_import"), {"reference": "1689303"})
    market = Market.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "disputes:market_detail", args=[market.pk]
    )


@responses.activate
def test_import_form_says_plainly_when_polymarket_is_unreachable(client, specialist):
    responses.get(f"{GAMMA}/markets/1689303", status=503)
    client.force_login(specialist)
    response = client.post(reverse("disputes:market_import"), {"reference": "1689303"})
    assert response.status_code == 400
    assert "Polymarket" in response.content.decode()
    assert not Market.objects.exists()


def test_import_form_refuses_another_sites_link(client, specialist):
    client.force_login(specialist)
    response = client.post(reverse("disputes:market_import"), {"reference": "https://example.com/event/x"})
    assert response.status_code == 400 and "not a Polymarket" in response.content.decode()


def test_market_page_shows_rules_versions_and_rules_at_a_time(
    client, specialist, market, django_assert_max_num_queries
):
    clarification_record(
        market=market,
        by=specialist,
        text="Only Chainlink counts.",
        published_at=timezone.now() - dt.timedelta(hours=1),
    )
    client.force_login(specialist)
    before = timezone.localtime(market.rule_versions.get(number=1).effective_at) + dt.timedelta(minutes=1)
    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("disputes:market_detail", args=[market.pk]), {"at": before.strftime("%Y-%m-%dT%H:%M")}
        )
    text = response.content.decode()
    assert "Only Chainlink counts." in text
    assert "version <strong>1</strong> was in force" in text


def test_diff_page_marks_the_change(client, specialist, market):
    market_upsert_from_gamma(
        data=gamma_market(description=market.current_version.rules_text.replace("Bitcoin", "Ether")),
        by=specialist,
    )
    client.force_login(specialist)
    response = client.get(reverse("disputes:market_diff", args=[market.pk]), {"from": 1, "to": 2})
    text = response.content.decode()
    assert "<del>Bitcoin</del>" in text and "<ins>Ether</ins>" in text


@pytest.mark.parametrize("params", [{"from": 1, "to": 9}, {"from": "x", "to": 1}, {}])
def test_diff_of_unknown_versions_is_404(client, specialist, market, params):
    client.force_login(specialist)
    assert client.get(reverse("disputes:market_diff", args=[market.pk]), params).status_code == 404


def test_an_empty_clarification_is_refused_on_the_page(client, specialist, market):
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:market_clarify", args=[market.pk]),
        {"text": " ", "published_at": "2026-01-01T10:00"},
    )
    assert response.status_code == 400
    assert market.rule_versions.count() == 1


def test_admin_edits_a_rulebook_section_as_a_new_version(client, portal_admin):
    section, _ = rulebook_section_save(
        by=portal_admin,
        venue="us",
        number="2",
        title="Orders",
        body="Limit orders only.",
        effective_from=dt.date(2026, 1, 1),
    )
    client.force_login(portal_admin)
    response = client.post(
        reverse("disputes:rulebook_section_edit", args=[section.pk]),
        {
            "title": "Orders",
            "body": "Limit orders only, including marketable ones.",
            "effective_from": "2026-06-01",
        },
        follow=True,
    )
    assert "Saved as a new version." in response.content.decode()
    diff = client.get(
        reverse("disputes:rulebook_section", args=[section.pk]), {"from": 1, "to": 2}
    ).content.decode()
    assert "<ins>" in diff


def test_header_search_opens_a_market_by_link_or_condition_id(client, leader, market):
    client.force_login(leader)
    for query in (f"https://polymarket.com/event/{market.slug}", market.condition_id, market.gamma_id):
        response = client.get(reverse("search"), {"q": query})
        assert response.status_code == 302, query
        assert response["Location"] == reverse("disputes:market_detail", args=[market.pk])
