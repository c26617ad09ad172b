"""Deciding a case, approving a proposed decision, the approvals queue and the decision search."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import decision_forms
from disputes.filters import DecisionFilter
from disputes.models import Decision
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services.cases import decision_approve, dispute_decide
from disputes.tables import ApprovalTable, DecisionTable
from disputes.views.cases import case_detail
from portal.forms import add_service_errors
from portal.roles import role_required
from portal.tables import configure_table


@require_POST
@role_required(*MARKET_WRITERS)
def case_decide(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form, citations = decision_forms(case, request.POST)
    forms_valid = form.is_valid() & citations.is_valid()  # both, so every error shows at once
    if forms_valid:
        data = form.cleaned_data
        try:
            decision = dispute_decide(
                case=case,
                by=request.user,
                outcome=data["outcome"],
                rationale=data["rationale"],
                remedy=data["remedy"],
                citations=citations.citations(),
                governing_version=data.get("governing_version"),
                governing_reason=data.get("governing_reason", ""),
                amendment_reason=data.get("amendment_reason", ""),
                consistency_note=data.get("consistency_note", ""),
                expected_revision=data["revision"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            proposed = decision.state == Decision.State.PROPOSED
            messages.success(
                request,
                "Decision proposed; a second specialist must approve it."
                if proposed
                else "Decision recorded.",
            )
            return redirect("disputes:case_detail", case.reference)
    return case_detail(request, reference, posted={"decision_form": form, "citation_formset": citations})


@require_POST
@role_required(*MARKET_WRITERS)
def case_approve(request, reference, decision_pk):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    decision = get_object_or_404(Decision, pk=decision_pk, case=case)
    try:
        decision_approve(decision=decision, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Decision approved and recorded.")
    return redirect("disputes:case_detail", case.reference)


@role_required(*RULE_READERS)
def approvals(request):
    """Proposed decisions waiting for a second specialist."""
    waiting = selectors.approvals_waiting()
    table = configure_table(request, ApprovalTable(waiting, user=request.user))
    return render(
        request,
        "disputes/approvals.html",
        {"table": table, "threshold": settings.DISPUTE_FOUR_EYES_THRESHOLD},
    )


@role_required(*RULE_READERS)
def decision_search(request):
    """Past decisions, found by the rule they cite."""
    decision_filter = DecisionFilter(request.GET, queryset=selectors.decisions_citing())
    valid = decision_filter.is_valid()
    decisions = decision_filter.qs if valid else decision_filter.queryset.none()
    table = configure_table(request, DecisionTable(decisions))
    context = {"table": table, "filter": decision_filter}
    return render(request, "disputes/decision_search.html", context, status=200 if valid else 400)
