"""Reads for markets, the rulebook, dispute cases and their decisions, one module per subject.
Import from here; the modules' other names are theirs."""

from disputes.selectors.case_page import (
    CASE_FACTS_PANELS,
    case_file,
    case_page,
    governing_texts,
    reply_drafting,
)
from disputes.selectors.cases import CASE_REFERENCE, TX_HASH, case_get_for_user, case_list, reference_parts
from disputes.selectors.decisions import (
    approvals_waiting,
    decisions_citing,
    decisions_conflicting,
    market_outcomes,
    related_decisions,
)
from disputes.selectors.markets import (
    CONDITION_ID,
    URL_SLUG,
    market_get_for_user,
    market_list,
    rule_versions,
    rules_at,
)
from disputes.selectors.replies import (
    REFUSED_JOB_STATUSES,
    REPLY_KEY_PREFIX,
    ReplyDelivery,
    case_history,
    replies_refused_for,
    reply_deliveries,
    reply_job_key,
)
from disputes.selectors.roles import MARKET_WRITERS, RULE_READERS, RULEBOOK_EDITORS
from disputes.selectors.rulebook import (
    rulebook,
    rulebook_in_force,
    rulebook_section_at,
    rulebook_section_get_for_user,
)

__all__ = [
    "CASE_FACTS_PANELS",
    "CASE_REFERENCE",
    "CONDITION_ID",
    "MARKET_WRITERS",
    "REFUSED_JOB_STATUSES",
    "REPLY_KEY_PREFIX",
    "RULEBOOK_EDITORS",
    "RULE_READERS",
    "TX_HASH",
    "URL_SLUG",
    "ReplyDelivery",
    "approvals_waiting",
    "case_file",
    "case_get_for_user",
    "case_history",
    "case_list",
    "case_page",
    "decisions_citing",
    "decisions_conflicting",
    "governing_texts",
    "market_get_for_user",
    "market_list",
    "market_outcomes",
    "reference_parts",
    "related_decisions",
    "replies_refused_for",
    "reply_deliveries",
    "reply_drafting",
    "reply_job_key",
    "rule_versions",
    "rulebook",
    "rulebook_in_force",
    "rulebook_section_at",
    "rulebook_section_get_for_user",
    "rules_at",
]
