"""Dispute case files, one module per job: filing (and the linked Intercom conversation), the
status workflow and notes, decisions that must cite the rule text they rest on, bulk changes from
the case list, and replies drafted from response templates. Import from here; the job modules'
other names are theirs."""

from disputes.services.cases.bulk import case_apply_routing, cases_bulk_assign, cases_bulk_transition
from disputes.services.cases.decisions import (
    QUOTES,
    CitationInput,
    decision_approve,
    dispute_decide,
    normalise_text,
    rules_changed_since_filing,
)
from disputes.services.cases.filing import (
    FIRST_RESPONSE_HOURS,
    RESOLUTION_HOURS,
    case_conversation_link,
    dispute_file,
)
from disputes.services.cases.replies import case_reply_record
from disputes.services.cases.workflow import TRANSITIONS, case_note_add, dispute_transition

__all__ = [
    "FIRST_RESPONSE_HOURS",
    "QUOTES",
    "RESOLUTION_HOURS",
    "TRANSITIONS",
    "CitationInput",
    "case_apply_routing",
    "case_conversation_link",
    "case_note_add",
    "case_reply_record",
    "cases_bulk_assign",
    "cases_bulk_transition",
    "decision_approve",
    "dispute_decide",
    "dispute_file",
    "dispute_transition",
    "normalise_text",
    "rules_changed_since_filing",
]
