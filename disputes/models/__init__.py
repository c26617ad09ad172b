"""The disputes app's models, by subject: markets and their rules, the rulebook, cases and their
history, decisions and citations, evidence and wallet snapshots."""

from disputes.models.cases import CaseCounter, CaseEvent, DisputeCase, DisputeCaseQuerySet
from disputes.models.decisions import AMENDS, FOUR_EYES, Decision, RuleCitation
from disputes.models.evidence import (
    EvidenceItem,
    WalletActivityRow,
    WalletActivitySnapshot,
    evidence_upload_path,
)
from disputes.models.markets import Clarification, Market, MarketRuleVersion
from disputes.models.radar import HeadsUp, MarketSignal
from disputes.models.rulebook import RulebookSection, RulebookSectionVersion

__all__ = [
    "AMENDS",
    "FOUR_EYES",
    "CaseCounter",
    "CaseEvent",
    "Clarification",
    "Decision",
    "DisputeCase",
    "DisputeCaseQuerySet",
    "EvidenceItem",
    "HeadsUp",
    "Market",
    "MarketRuleVersion",
    "MarketSignal",
    "RuleCitation",
    "RulebookSection",
    "RulebookSectionVersion",
    "WalletActivityRow",
    "WalletActivitySnapshot",
    "evidence_upload_path",
]
