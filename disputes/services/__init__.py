"""Writes for markets, their rule versions and the platform rulebook."""

from disputes.services.markets import (
    clarification_record,
    market_create_manual,
    market_rules_update,
    market_upsert_from_gamma,
    markets_import,
    markets_refresh,
)
from disputes.services.rulebook import rulebook_import, rulebook_section_save

__all__ = [
    "clarification_record",
    "market_create_manual",
    "market_rules_update",
    "market_upsert_from_gamma",
    "markets_import",
    "markets_refresh",
    "rulebook_import",
    "rulebook_section_save",
]
