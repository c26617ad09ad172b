"""The case page and the printable case file, and the forms on the case page that change the
case itself: status, notes, the linked Intercom conversation."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import (
    ConversationLinkForm,
    EvidenceForm,
    NoteForm,
    ReplyForm,
    TransitionForm,
    decision_forms,
    wallet_snapshot_form,
)
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services.cases import (
    TRANSITIONS,
    case_conversation_link,
    case_note_add,
    dispute_transition,
)
from portal.forms import add_service_errors
from portal.roles import role_required


@role_required(*RULE_READERS)
def case_detail(request, reference, *, posted: dict | None = None):
    """The case page. A form posted from it that failed comes back in `posted`, keyed by its name
    in the template, and the page shows it with its errors and answers 400."""
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    posted = posted or {}
    reply_form = posted.get("reply_form")
    page = selectors.case_page(
        case=case,
        user=request.user,
        reply_template=reply_form.data.get("template") if reply_form else request.GET.get("reply"),
        draft=reply_form is None,
    )
    context = {**page, **_page_forms(case, page, posted)}
    return render(request, "disputes/case_detail.html", context, status=400 if posted else 200)


def _page_forms(case, page: dict, posted: dict) -> dict:
    """The forms of the case page: the one posted back with its errors, fresh ones for the rest."""
    decision_form, citation_formset = posted.get("decision_form"), posted.get("citation_formset")
    if decision_form is None:
        decision_form, citation_formset = decision_forms(case)
    reply_form, draft = posted.get("reply_form"), page.get("reply_draft")
    if reply_form is None and draft is not None and not draft.problems:
        reply_form = ReplyForm(
            initial={"template": page["reply_chosen"].pk, "subject": draft.subject, "body": draft.body}
        )
    return {
        "transition_form": posted.get("transition_form")
        or TransitionForm(initial={"revision": case.revision}, allowed=TRANSITIONS.get(case.status, set())),
        "note_form": posted.get("note_form") or NoteForm(),
        "link_form": posted.get("link_form")
        or ConversationLinkForm(initial={"intercom_conversation_id": case.intercom_conversation_id}),
        "decision_form": decision_form,
        "citation_formset": citation_formset,
        "evidence_form": posted.get("evidence_form") or EvidenceForm(),
        "snapshot_form": posted.get("snapshot_form") or wallet_snapshot_form(case),
        "reply_form": reply_form,
    }


@role_required(*RULE_READERS)
def case_print(request, reference):
    """The whole case file on one page, laid out for paper: what an auditor reads."""
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    return render(request, "disputes/case_print.html", selectors.case_file(case=case))


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
    return case_detail(request, reference, posted={"transition_form": form})


@require_POST
@role_required(*MARKET_WRITERS)
def case_note(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = NoteForm(request.POST)
    if form.is_valid():
        case_note_add(case=case, by=request.user, text=form.cleaned_data["text"])
        messages.success(request, "Note added to the history.")
        return redirect("disputes:case_detail", case.reference)
    return case_detail(request, reference, posted={"note_form": form})


@require_POST
@role_required(*MARKET_WRITERS)
def case_conversation(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = ConversationLinkForm(request.POST)
    if form.is_valid():
        try:
            changed = case_conversation_link(
                case=case, by=request.user, conversation_id=form.cleaned_data["intercom_conversation_id"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if changed:
                messages.success(request, "Intercom conversation link saved.")
            return redirect("disputes:case_detail", case.reference)
    return case_detail(request, reference, posted={"link_form": form})
