import json
from pathlib import Path

from integrations.polymarket.gamma import parse_event, parse_market

FIXTURES = Path(__file__).resolve().parents[2] / "integrations" / "tests" / "fixtures" / "gamma"


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
