"""The cases and decisions behind the disputes family's figures (reports.rows)."""

from django.db.models import F, OuterRef, Q, Subquery, Value
from django.urls import reverse

from accounts.models import Venue
from disputes.models import Decision, DisputeCase
from portal.columns import Column
from reports.aggregates import seconds_between
from reports.metrics.base import (
    in_period,
)
from reports.metrics.dimensions import person_name
from reports.metrics.disputes import (
    AMENDED_DEFINITION,
    AMENDMENT,
    APPROVALS_DEFINITION,
    DECIDED_DEFINITION,
    FOUR_EYES,
    OPENED_DEFINITION,
    RECORDED,
    ROLES,
    _cases,
    _decisions,
)
from reports.rows import RowList, RowQuery, one_of, positive_id, register_rows

Category, Outcome = DisputeCase.Category, Decision.Outcome

# The rows behind the figures: cases, and decisions for amendments and approvals.


def _person(raw: str):
    return None if raw == "none" else positive_id("Person")(raw)


CASE_FILTERS = {
    "category": one_of("Category", Category.values),
    "venue": one_of("Venue", Venue.values),
    "person": _person,
}


def _case_columns(prefix: str = "") -> tuple[Column, ...]:
    return (
        Column("reference", "Case", "reference"),
        Column("account", "Account", f"{prefix}account__display_name"),
        Column("category", "Category", f"{prefix}category"),
        Column("venue", "Venue", f"{prefix}venue"),
        Column("assignee", "Assignee", "assignee_name"),
        Column("filed", "Filed", f"{prefix}created_at"),
        Column("decided", "Decided", "decided"),
        Column("outcome", "Outcome", "outcome"),
    )


def _filtered(queryset, filters: dict, prefix: str = ""):
    for name, field in (("category", "category"), ("venue", "venue"), ("person", "assignee_id")):
        if name in filters:
            queryset = queryset.filter(**{f"{prefix}{field}": filters[name]})
    return queryset


def cases_opened(query: RowQuery):
    in_force = Decision.objects.filter(case=OuterRef("pk"), state=RECORDED).values("outcome")[:1]
    cases = _filtered(_cases(query.specialist).filter(in_period("created_at", query.period)), query.filters)
    return cases.annotate(
        assignee_name=person_name("assignee"), decided=F("decided_at"), outcome=Subquery(in_force)
    ).order_by("-created_at", "-pk")


def cases_decided(query: RowQuery):
    in_force = {"decisions__state": RECORDED}
    if "outcome" in query.filters:  # in the same filter(): the decision in force has the outcome
        in_force["decisions__outcome"] = query.filters["outcome"]
    cases = _cases(query.specialist).filter(in_period("decided_at", query.period), **in_force)
    return (
        _filtered(cases, query.filters)
        .annotate(
            assignee_name=person_name("assignee"), decided=F("decided_at"), outcome=F("decisions__outcome")
        )
        .order_by("-decided_at", "-pk")
    )


def _decisions_in(query: RowQuery, condition: Q):
    decisions = _decisions(query.specialist).filter(condition, in_period("approved_at", query.period))
    return _filtered(decisions, query.filters, prefix="case__")


def _decision_rows(query: RowQuery, condition: Q):
    return _decisions_in(query, condition).annotate(
        reference=F("case__reference"),
        assignee_name=person_name("case__assignee"),
        decided=F("approved_at"),
        proposer=person_name("proposed_by"),
        approver=person_name("approved_by"),
    )


def amended_decisions(query: RowQuery):
    return (
        _decision_rows(query, AMENDMENT)
        .annotate(replaced=F("supersedes__outcome"))
        .order_by("-approved_at", "-pk")
    )


def approvals(query: RowQuery):
    wait = seconds_between("proposed_at", "approved_at") / Value(60.0)
    return _decision_rows(query, FOUR_EYES).annotate(wait_minutes=wait).order_by("-approved_at", "-pk")


def _case_url(row) -> str:
    return reverse("disputes:case_detail", kwargs={"reference": row.reference})


CASE_COLUMNS = _case_columns()


def _register(key, title, definition, rows, filters=CASE_FILTERS, columns=CASE_COLUMNS, counted=None) -> None:
    register_rows(
        RowList(
            key, title, definition, columns, rows, ROLES, filters=filters, item_url=_case_url, counted=counted
        )
    )


_register("cases-opened", "Cases opened", OPENED_DEFINITION, cases_opened)
_register(
    "cases-decided-by-outcome",
    "Cases decided",
    DECIDED_DEFINITION,
    cases_decided,
    filters={**CASE_FILTERS, "outcome": one_of("Outcome", Outcome.values)},
)
_register(
    "amended-decisions",
    "Amended decisions",
    AMENDED_DEFINITION,
    amended_decisions,
    columns=(
        *_case_columns("case__"),
        Column("replaced", "Replaced outcome", "replaced"),
        Column("reason", "Reason", "amendment_reason", table=False),
    ),
    counted=lambda query: _decisions_in(query, AMENDMENT),  # without the joins that name people
)
_register(
    "approvals",
    "Four-eyes approvals",
    APPROVALS_DEFINITION,
    approvals,
    columns=(
        *_case_columns("case__"),
        Column("proposer", "Proposed by", "proposer"),
        Column("proposed", "Proposed", "proposed_at"),
        Column("approver", "Approved by", "approver"),
        Column("wait_minutes", "Wait (minutes)", "wait_minutes", numeric=True),
    ),
    counted=lambda query: _decisions_in(query, FOUR_EYES),
)
