from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import CaseForm, DecisionForm, NoteForm, TransitionForm
from disputes.filters import CaseFilter
from disputes.models import Decision
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services.cases import (
    CitationInput,
    case_note_add,
    decision_approve,
    dispute_decide,
    dispute_file,
    dispute_transition,
)
from disputes.tables import CaseTable
from portal.csv_export import stream_csv
from portal.forms import add_service_errors
from portal.roles import has_role, role_required
from portal.search import normalise_query
from portal.tables import configure_table

CSV_HEADER = [
    "reference",
    "account",
    "category",
    "status",
    "venue",
    "assignee",
    "resolution_due",
    "amount_at_stake",
]


@role_required(*RULE_READERS)
def case_list(request):
    query = normalise_query(request.GET.get("q"))
    case_filter = CaseFilter(request.GET, queryset=selectors.case_list(query=query))
    valid = case_filter.is_valid()
    cases = case_filter.qs if valid else case_filter.queryset.none()
    if request.GET.get("export") == "csv" and valid:
        rows = cases.order_by("-year", "-number").values_list(
            "reference",
            "account__display_name",
            "category",
            "status",
            "venue",
            "assignee__username",
            "resolution_due",
            "amount_at_stake",
        )
        return stream_csv(filename="disputes.csv", header=CSV_HEADER, rows=rows.iterator(chunk_size=2000))
    table = configure_table(request, CaseTable(cases))
    context = {
        "table": table,
        "filter": case_filter,
        "query": query,
        "can_write": has_role(request.user, *MARKET_WRITERS),
    }
    return render(request, "disputes/case_list.html", context, status=200 if valid else 400)


@role_required(*MARKET_WRITERS)
def case_new(request):
    initial = {key: request.GET[key] for key in ("account", "market") if key in request.GET}
    form = CaseForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            case = dispute_file(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} filed.")
            return redirect("disputes:case_detail", case.reference)
    return render(request, "disputes/case_form.html", {"form": form}, status=400 if form.errors else 200)


def _current_rulebook(case):
    return [
        section.current_version
        for section in selectors.rulebook(venue=case.venue).select_related("current_version__section")
        if section.current_version
    ]


@role_required(*RULE_READERS)
def case_detail(request, reference, *, transition_form=None, decision_form=None, note_form=None, status=200):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    rulebook = _current_rulebook(case)
    decisions = list(
        case.decisions.select_related("proposed_by", "approved_by").prefetch_related("citations")
    )
    context = {
        "case": case,
        "events": list(case.events.select_related("actor")),
        "decisions": decisions,
        "rules_changed": case.market_id and case.rule_version_id != case.market.current_version_id,
        "can_write": has_role(request.user, *MARKET_WRITERS),
        "transition_form": transition_form or TransitionForm(initial={"revision": case.revision}),
        "note_form": note_form or NoteForm(),
        "decision_form": decision_form
        or DecisionForm(case=case, rulebook_versions=rulebook, initial={"revision": case.revision}),
    }
    return render(request, "disputes/case_detail.html", context, status=status)


@require_POST
@role_required(*MARKET_WRITERS)
def case_transition(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            dispute_transition(
                case=case,
                by=request.user,
                to=form.cleaned_data["to"],
                reason=form.cleaned_data["reason"],
                expected_revision=form.cleaned_data["revision"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Status changed.")
            return redirect("disputes:case_detail", case.reference)
    return case_detail(request, reference, transition_form=form, status=400)


@require_POST
@role_required(*MARKET_WRITERS)
def case_decide(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = DecisionForm(request.POST, case=case, rulebook_versions=_current_rulebook(case))
    if form.is_valid():
        data = form.cleaned_data
        try:
            decision = dispute_decide(
                case=case,
                by=request.user,
                outcome=data["outcome"],
                rationale=data["rationale"],
                remedy=data["remedy"],
                citations=[CitationInput(excerpt=data["excerpt"], **form.cited_version())],
                governing_reason=data["governing_reason"],
                amendment_reason=data["amendment_reason"],
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
    return case_detail(request, reference, decision_form=form, status=400)


@require_POST
@role_required(*MARKET_WRITERS)
def case_note(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = NoteForm(request.POST)
    if form.is_valid():
        case_note_add(case=case, by=request.user, text=form.cleaned_data["text"])
        messages.success(request, "Note added to the history.")
        return redirect("disputes:case_detail", case.reference)
    return case_detail(request, reference, note_form=form, status=400)


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
