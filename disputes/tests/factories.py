import json
from decimal import Decimal
from pathlib import Path

from accounts.models import Account
from accounts.tests.factories import make_account
from disputes.models import DisputeCase
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import CitationInput, dispute_decide, dispute_file
from integrations.polymarket.gamma import parse_event, parse_market
from portal.models import User

FIXTURES = Path(__file__).resolve().parents[2] / "integrations" / "tests" / "fixtures" / "gamma"
# A phrase of the rules of the recorded market (market_1689303.json), for citations.
RULE = "The resolution source for this market is information from Chainlink"


def gamma_payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def gamma_market(name: str = "market_1689303.json", **changes):
    """A GammaMarket parsed from a recorded payload, with raw fields changed."""
    return parse_market({**gamma_payload(name), **changes})


def gamma_event_markets(name: str = "event_neg_risk_fed_march_2026.json"):
    return list(parse_event(gamma_payload(name)).markets)


def decision_form_data(*, revision: int, citations=(), outcome="denied", rationale="Per the rules.", **extra):
    """The POST of the decision form: its fields plus the citation rows (a formset)."""
    data = {
        "outcome": outcome,
        "rationale": rationale,
        "revision": revision,
        "citation-TOTAL_FORMS": max(3, len(citations)),
        "citation-INITIAL_FORMS": 0,
        "citation-MIN_NUM_FORMS": 0,
        "citation-MAX_NUM_FORMS": 10,
        **extra,
    }
    for index, (source, excerpt) in enumerate(citations):
        data[f"citation-{index}-source"] = source
        data[f"citation-{index}-excerpt"] = excerpt
    return data


def make_decided_case(*, by: User, account: Account | None = None) -> DisputeCase:
    """A market-resolution case on the recorded market, filed and decided ("denied", "Chainlink
    governs.", citing RULE) through the services by `by`, a Specialist. The amount stays below the
    four-eyes threshold, so the decision is recorded at once. The account defaults to a new one
    named Dana Whitfield, owned by `by`."""
    market = market_upsert_from_gamma(data=gamma_market(), by=by).market
    case = dispute_file(
        by=by,
        account=account or make_account(owner=by, display_name="Dana Whitfield"),
        category="market_resolution",
        market=market,
        claim="Wrong source.",
        amount_at_stake=Decimal("100"),
    )
    dispute_decide(
        case=case,
        by=by,
        outcome="denied",
        rationale="Chainlink governs.",
        citations=[CitationInput(excerpt=RULE, market_rule_version=market.current_version)],
    )
    return case
