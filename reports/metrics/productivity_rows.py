"""The conversations, check-ins, cases and replies behind the productivity family's figures
(reports.rows)."""

from django.db.models import F

from accounts.models import CheckIn
from disputes.models import DisputeCase
from portal.columns import Column
from reports.metrics.base import (
    in_period,
)
from reports.metrics.csat import CONVERSATION_COLUMNS, CONVERSATION_FILTERS, conversation_filters
from reports.metrics.dimensions import person_name
from reports.metrics.productivity import ALL_ROLES, WORK, WORK_ITEMS, recorded_decision
from reports.rows import RowList, RowQuery, positive_id, register_rows
from support.models import Conversation


def _person(raw: str):
    return None if raw == "none" else positive_id("Person")(raw)


def closed_conversations(query: RowQuery):
    rows = Conversation.objects.filter(in_period("closed_at", query.period))
    if query.specialist is not None:
        rows = rows.filter(assignee=query.specialist)
    rows = conversation_filters(rows, query.filters)
    return rows.annotate(assignee_name=person_name("assignee")).order_by("-closed_at", "-pk")


def check_ins(query: RowQuery):
    rows = CheckIn.objects.filter(in_period("occurred_at", query.period))
    if query.specialist is not None:
        rows = rows.filter(specialist=query.specialist)
    if "person" in query.filters:
        rows = rows.filter(specialist_id=query.filters["person"])
    if "tier" in query.filters:
        rows = rows.filter(account__tier_id=query.filters["tier"])
    return rows.annotate(specialist_name=person_name("specialist")).order_by("-occurred_at", "-pk")


def decided_cases(query: RowQuery):
    rows = recorded_decision(DisputeCase.objects.filter(in_period("decided_at", query.period)))
    if query.specialist is not None:
        rows = rows.filter(recorded__proposed_by=query.specialist)
    if "person" in query.filters:
        rows = rows.filter(recorded__proposed_by=query.filters["person"])
    return rows.annotate(
        decided_by=person_name("recorded__proposed_by"), outcome=F("recorded__outcome")
    ).order_by("-decided_at", "-pk")


def case_replies(query: RowQuery):
    rows = WORK_ITEMS["replies"]().filter(in_period("at", query.period))
    if query.specialist is not None:
        rows = rows.filter(actor=query.specialist)
    if "person" in query.filters:
        rows = rows.filter(actor_id=query.filters["person"])
    return rows.annotate(actor_name=person_name("actor")).order_by("-at", "-pk")


_by_person = {"person": _person}
register_rows(
    RowList(
        key="closed-conversations",
        title="Closed conversations",
        definition=WORK[0].definition,
        columns=CONVERSATION_COLUMNS,
        rows=closed_conversations,
        roles=ALL_ROLES,
        filters=CONVERSATION_FILTERS,
    )
)
register_rows(
    RowList(
        key="check-ins",
        title="Check-ins",
        definition=WORK[4].definition,
        columns=(
            Column("account", "Account", "account__display_name"),
            Column("tier", "Tier", "account__tier__name"),
            Column("specialist", "Specialist", "specialist_name"),
            Column("occurred", "Took place", "occurred_at"),
            Column("kind", "Kind", "kind"),
            Column("channel", "Channel", "channel"),
            Column("sentiment", "Sentiment", "sentiment"),
            Column("summary", "Summary", "summary", table=False),
        ),
        rows=check_ins,
        roles=ALL_ROLES,
        filters={**_by_person, "tier": positive_id("Tier")},
    )
)
register_rows(
    RowList(
        key="decided-cases",
        title="Decided cases",
        definition=WORK[3].definition,
        columns=(
            Column("case", "Case", "reference"),
            Column("account", "Account", "account__display_name"),
            Column("category", "Category", "category"),
            Column("outcome", "Outcome", "outcome"),
            Column("decided_by", "Decided by", "decided_by"),
            Column("decided", "Decided", "decided_at"),
        ),
        rows=decided_cases,
        roles=ALL_ROLES,
        filters=_by_person,
    )
)
register_rows(
    RowList(
        key="case-replies",
        title="Case replies sent",
        definition=WORK[2].definition,
        columns=(
            Column("case", "Case", "case__reference"),
            Column("sent_by", "Sent by", "actor_name"),
            Column("sent", "Sent", "at"),
            Column("summary", "Summary", "summary"),
        ),
        rows=case_replies,
        roles=ALL_ROLES,
        filters=_by_person,
    )
)
