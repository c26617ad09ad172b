import datetime as dt

import pytest
import responses
from django.core.exceptions import ValidationError
from django.utils import timezone

from disputes.models import Market, MarketRuleVersion
from disputes.selectors import market_list, rules_at
from disputes.services import (
    clarification_record,
    market_create_manual,
    market_upsert_from_gamma,
    markets_import,
)
from disputes.tests.factories import gamma_market, gamma_payload

pytestmark = pytest.mark.django_db
GAMMA = "https://gamma-api.polymarket.com"


def test_importing_a_gamma_market_stores_it_with_its_rules_as_version_one(specialist):
    imported = market_upsert_from_gamma(data=gamma_market(), by=specialist)
    market = imported.market
    assert imported.created and imported.new_version
    assert market.gamma_id == "1689303"
    assert market.condition_id == "0xeb8d50cefcb367c18d701a405db7e20426e2065580231a8cfa1b40fc453caf49"
    assert market.is_closed and market.is_resolved and market.resolved_outcome == "Up"
    assert [o["name"] for o in market.outcomes] == ["Up", "Down"]
    assert market.outcomes[0]["token_id"].startswith("7611345677530508362")
    assert market.closed_at == dt.datetime(2026, 3, 24, 6, 40, 23, tzinfo=dt.UTC)
    version = market.current_version
    assert version.number == 1 and version.origin == MarketRuleVersion.Origin.GAMMA
    assert version.rules_text.startswith('This market will resolve to "Up"')
    assert version.resolution_source == "https://data.chain.link/streams/btc-usd"


def test_reimporting_the_same_payload_adds_no_version_and_a_changed_description_adds_one(specialist):
    market_upsert_from_gamma(data=gamma_market(), by=specialist)
    again = market_upsert_from_gamma(data=gamma_market(), by=specialist)
    assert not again.created and not again.new_version
    changed = market_upsert_from_gamma(data=gamma_market(description="New rules text."), by=specialist)
    assert changed.new_version
    assert list(changed.market.rule_versions.values_list("number", flat=True)) == [2, 1]
    assert Market.objects.count() == 1


def test_a_clarification_makes_a_new_version_in_force_from_its_publication(specialist):
    market = market_upsert_from_gamma(data=gamma_market(), by=specialist).market
    v1 = market.current_version
    published = timezone.now() - dt.timedelta(hours=3)
    clarification_record(
        market=market, by=specialist, text="Only the Chainlink stream counts.", published_at=published
    )
    market.refresh_from_db()
    v2 = market.current_version
    assert v2.number == 2 and v2.origin == MarketRuleVersion.Origin.CLARIFICATION
    assert v2.rules_text == v1.rules_text
    assert v2.clarifications[0]["text"] == "Only the Chainlink stream counts."
    assert market.clarification_count == 1
    assert rules_at(market, published - dt.timedelta(minutes=1)) == v1
    assert rules_at(market, published + dt.timedelta(minutes=1)) == v2
    # A later re-import of the unchanged description keeps the clarification in force.
    assert not market_upsert_from_gamma(data=gamma_market(), by=specialist).new_version


@pytest.mark.parametrize(
    ("text", "published", "field"),
    [("  ", timezone.now(), "text"), ("x", timezone.now() + dt.timedelta(days=1), "published_at")],
)
def test_bad_clarifications_are_refused_and_nothing_is_written(specialist, text, published, field):
    market = market_upsert_from_gamma(data=gamma_market(), by=specialist).market
    with pytest.raises(ValidationError) as caught:
        clarification_record(market=market, by=specialist, text=text, published_at=published)
    assert field in caught.value.message_dict
    assert market.rule_versions.count() == 1 and not market.clarification_records.exists()


@responses.activate
def test_importing_an_event_link_imports_every_market_of_the_event(specialist):
    event = gamma_payload("event_neg_risk_fed_march_2026.json")
    responses.get(f"{GAMMA}/events/slug/{event['slug']}", json=event)
    imported = markets_import(reference=f"https://polymarket.com/event/{event['slug']}", by=specialist)
    assert len(imported) == len(event["markets"]) == Market.objects.count()
    assert all(m.market.neg_risk for m in imported)


@pytest.mark.parametrize(
    ("reference", "message"),
    [("https://example.com/event/x", "not a Polymarket"), ("", "not a Polymarket")],
)
def test_a_reference_that_is_not_polymarkets_is_explained(specialist, reference, message):
    with pytest.raises(ValidationError, match=message):
        markets_import(reference=reference, by=specialist)


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "message"), [(500, "oops", "Polymarket"), (404, "{}", "no market")]
)
def test_an_unreachable_or_unknown_market_is_explained_and_nothing_written(specialist, status, body, message):
    responses.get(f"{GAMMA}/markets/1689303", status=status, body=body)
    with pytest.raises(ValidationError, match=message):
        markets_import(reference="1689303", by=specialist)
    assert not Market.objects.exists()


def test_us_markets_are_entered_by_hand_with_their_rules(specialist):
    with pytest.raises(ValidationError) as caught:
        market_create_manual(by=specialist, question="Q", rules_text=" ", outcomes=["Yes", "Yes"])
    assert {"rules_text", "outcomes"} <= set(caught.value.message_dict)
    market = market_create_manual(
        by=specialist,
        question="Will CPI exceed 3%?",
        rules_text="Resolves Yes if CPI > 3%.",
        outcomes=["Yes", "No"],
    )
    assert (
        market.venue == "us" and market.source == Market.Source.MANUAL and market.current_version.number == 1
    )


def test_search_finds_markets_by_link_slug_id_and_condition_id(specialist):
    market = market_upsert_from_gamma(data=gamma_market(), by=specialist).market
    for query in (
        "1689303",
        market.condition_id,
        market.slug,
        f"https://polymarket.com/event/{market.slug}",
        "Bitcoin Up or Down",
    ):
        assert list(market_list(query=query)) == [market], query
