"""The daily rollups of dispute cases (reports.models.CaseDay): cases opened per UTC day by
category, venue and assignee, and cases decided per day by the same and the outcome and author
of their recorded decision. An amendment moves a case's decision later: kept exact as
rollups.moving says."""

from django.db.models import FilteredRelation, Q

from disputes.models import Decision, DisputeCase
from reports.models import CaseDay
from reports.rollups.moving import DayRollup, Event

OPENED, DECIDED = "opened", "decided"
_CASE = {"category": "category", "venue": "venue", "assignee": "assignee_id"}


def _cases():
    return DisputeCase.objects.annotate(
        recorded=FilteredRelation("decisions", condition=Q(decisions__state=Decision.State.RECORDED))
    )


CASES = DayRollup(
    name="cases",
    model=CaseDay,
    rows=_cases,
    origin="created_at",
    events={
        OPENED: Event("created_at", _CASE),
        # Every case with a decision time; its outcome and author None when no decision is
        # recorded (the disputes figures count only those with one, productivity all).
        DECIDED: Event(
            "decided_at", {**_CASE, "outcome": "recorded__outcome", "decided_by": "recorded__proposed_by_id"}
        ),
    },
    columns={
        "category": "category",
        "venue": "venue",
        "assignee": "assignee_id",
        "outcome": "outcome",
        "decided_by": "decided_by_id",
    },
    count="cases",
)
