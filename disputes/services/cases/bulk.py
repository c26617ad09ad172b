"""Changes to many cases at once from the case list: assigning them and moving their status."""

from django.core.exceptions import ValidationError
from django.db import transaction

from disputes.models import CaseEvent, DisputeCase
from disputes.services.cases.workflow import (
    TRANSITIONS,
    Status,
    case_event_add,
    dispute_transition,
    is_reopening,
    require_specialist,
)
from disputes.signals import case_changed
from portal.models import User

MAX_BULK = 500


def _locked_cases(case_ids) -> list[DisputeCase]:
    ids = sorted({int(pk) for pk in case_ids})
    if not ids:
        raise ValidationError("Select at least one case.")
    if len(ids) > MAX_BULK:
        raise ValidationError(f"Select at most {MAX_BULK} cases at a time.")
    # Locked in id order, so two bulk changes over overlapping cases cannot deadlock.
    cases = list(
        DisputeCase.objects.select_for_update(of=("self",))
        .select_related("assignee", "account")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(cases) != len(ids):
        raise ValidationError("Some of the selected cases no longer exist; reload the page.")
    return cases


@transaction.atomic
def cases_bulk_assign(*, case_ids, by: User, assignee: User | None) -> int:
    """Assign many cases at once (one event each). Returns how many changed."""
    require_specialist(by, "assign cases")
    changed = 0
    for case in _locked_cases(case_ids):
        if case.assignee_id == (assignee.pk if assignee else None):
            continue
        before = case.assignee.username if case.assignee_id else None
        case.assignee = assignee
        case.revision += 1
        case.save(update_fields=["assignee", "revision", "updated_at"])
        case_event_add(
            case,
            CaseEvent.Kind.ASSIGNED,
            by,
            f"Assigned to {assignee.display_name}" if assignee else "Unassigned",
            before={"assignee": before},
            after={"assignee": assignee.username if assignee else None},
        )
        case_changed.send(sender=DisputeCase, case=case, what="assigned")
        changed += 1
    return changed


@transaction.atomic
def case_apply_routing(
    *, case: DisputeCase, assignee: User | None, priority: str, reason: str
) -> DisputeCase:
    """Carry out routing's decision on a new case (no actor: the rules did it), each change in the
    case's history with the reason: the chosen person, unless someone assigned the case
    meanwhile, and the rule's priority when it sets one."""
    locked = DisputeCase.objects.select_for_update(of=("self",)).get(pk=case.pk)
    assign = assignee is not None and locked.assignee_id is None
    reprioritise = bool(priority) and priority != locked.priority
    if not (assign or reprioritise):
        return locked
    if assign:
        locked.assignee = assignee
        case_event_add(
            locked,
            CaseEvent.Kind.ASSIGNED,
            None,
            f"Routed to {assignee.display_name}: {reason}",
            before={"assignee": None},
            after={"assignee": assignee.username, "routed": True},
        )
    if reprioritise:
        case_event_add(
            locked,
            CaseEvent.Kind.UPDATED,
            None,
            f"Priority set to {DisputeCase.Priority(priority).label.lower()} by routing: {reason}",
            before={"priority": locked.priority},
            after={"priority": priority, "routed": True},
        )
        locked.priority = priority
    locked.revision += 1
    locked.save(update_fields=["assignee", "priority", "revision", "updated_at"])
    case_changed.send(sender=DisputeCase, case=locked, what="assigned")
    return locked


@transaction.atomic
def cases_bulk_transition(*, case_ids, by: User, to: str, reason: str = "") -> int:
    """Move many cases to one status. All or nothing: when any selected case can't make the
    move, nothing changes and the message names those cases."""
    require_specialist(by, "change the status of cases")
    cases = _locked_cases(case_ids)
    if to == Status.DECIDED or to not in Status.values:
        raise ValidationError("Cases are decided one by one, by recording a decision with citations.")
    stuck = [c.reference for c in cases if c.status != to and to not in TRANSITIONS.get(c.status, set())]
    if stuck:
        raise ValidationError(
            f"{len(stuck)} of the selected cases can’t move to “{Status(to).label.lower()}”: "
            f"{', '.join(stuck[:10])}{'…' if len(stuck) > 10 else ''}. Nothing was changed."
        )
    if any(is_reopening(c.status, to) for c in cases) and not reason.strip():
        raise ValidationError("Say why the cases are reopened; the reason is kept in each history.")
    changed = 0
    for case in cases:
        if case.status == to:
            continue
        dispute_transition(case=case, by=by, to=to, reason=reason)
        changed += 1
    return changed
