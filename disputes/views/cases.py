"""The case page and the printable case file, and the forms on the case page that change the
case itself: status, notes, the linked Intercom conversation."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import (
    ConversationLinkForm,
    EvidenceForm,
    NoteForm,
    ReplyForm,
    TransitionForm,
    wallet_snapshot_form,
)
from disputes.case_forms import decision_forms as new_decision_forms
from disputes.highlight import highlighted
from disputes.models import Decision, DisputeCase
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services.cases import (
    TRANSITIONS,
    case_conversation_link,
    case_note_add,
    dispute_transition,
    rules_changed_since_filing,
)
from playbooks.contexts import specialist_context
from playbooks.drafts import chosen_template, draft_from, offered_templates
from portal.forms import add_service_errors
from portal.roles import has_role, role_required
from support.selectors import linked_conversation


def _governing_texts(case, decisions):
    """The rule texts this case rests on, each with the excerpts cited from it highlighted:
    the market's rules at filing (and now, when they changed) and every cited version."""
    cited = {}
    for decision in decisions:
        if decision.state == Decision.State.SUPERSEDED:
            continue
        for citation in decision.citations.all():
            version = citation.market_rule_version or citation.rulebook_version
            key = ("m" if citation.market_rule_version_id else "r", version.pk)
            cited.setdefault(key, (version, []))[1].append(citation.excerpt)
    texts = []
    market_versions = [case.rule_version] if case.rule_version_id else []
    if rules_changed_since_filing(case):
        market_versions.append(case.market.current_version)
    for version in market_versions:
        excerpts = cited.pop(("m", version.pk), (version, []))[1]
        label = "in force at filing" if version.pk == case.rule_version_id else "in force now"
        texts.append(
            {
                "title": f"Market rules v{version.number}",
                "note": label,
                "html": highlighted(version.full_text, excerpts),
                "cited": bool(excerpts),
            }
        )
    for (kind, _pk), (version, excerpts) in cited.items():
        if kind == "m":
            title, text = f"Market rules v{version.number}", version.full_text
        else:
            title = f"Rulebook §{version.section.number} {version.section.title} v{version.number}"
            text = version.body
        texts.append({"title": title, "note": "cited", "html": highlighted(text, excerpts), "cited": True})
    return texts


def _case_context(request, case):
    decisions = list(
        case.decisions.select_related("proposed_by", "approved_by", "governing_version").prefetch_related(
            "citations__market_rule_version", "citations__rulebook_version__section"
        )
    )
    snapshots_taken = list(
        case.wallet_snapshots.select_related("fetched_by").prefetch_related("rows").order_by("fetched_at")
    )
    related = selectors.related_decisions(case)
    current = next((d for d in reversed(decisions) if d.state != Decision.State.SUPERSEDED), None)
    return {
        # The service refuses a decision while one waits for approval, so the page offers none.
        "waiting_proposal": current if current and current.state == Decision.State.PROPOSED else None,
        "case": case,
        "events": selectors.case_history(case),
        "decisions": decisions,
        "evidence": list(case.evidence.select_related("added_by")),
        "snapshots": snapshots_taken,
        "governing_texts": _governing_texts(case, decisions),
        "related_decisions": related,
        "related_disagree": bool(current and any(d.outcome != current.outcome for d in related))
        or len({d.outcome for d in related}) > 1,
        "rules_changed": rules_changed_since_filing(case),
        "now": timezone.now(),
    }


@role_required(*RULE_READERS)
def case_detail(
    request,
    reference,
    *,
    transition_form=None,
    decision_forms=None,
    note_form=None,
    evidence_form=None,
    snapshot_form=None,
    reply_form=None,
    link_form=None,
    status=200,
):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    decision_form, citation_formset = decision_forms or new_decision_forms(case)
    can_write = has_role(request.user, *MARKET_WRITERS)
    reply = _reply(request, case, reply_form) if can_write else {}
    context = {
        **_case_context(request, case),
        "can_write": can_write,
        **reply,
        "transition_form": transition_form
        or TransitionForm(initial={"revision": case.revision}, allowed=TRANSITIONS.get(case.status, set())),
        "note_form": note_form or NoteForm(),
        "link_form": link_form
        or ConversationLinkForm(initial={"intercom_conversation_id": case.intercom_conversation_id}),
        "decision_form": decision_form,
        "citation_formset": citation_formset,
        "evidence_form": evidence_form or EvidenceForm(),
        "snapshot_form": snapshot_form or wallet_snapshot_form(case),
        "snapshot_allowed": case.category != DisputeCase.Category.MARKET_RESOLUTION,
        "wallets": list(case.account.wallets.all()),
        "four_eyes_threshold": settings.DISPUTE_FOUR_EYES_THRESHOLD,
        "linked_conversation": linked_conversation(case.intercom_conversation_id),
    }
    return render(request, "disputes/case_detail.html", context, status=status)


def _reply(request, case, reply_form) -> dict:
    """The dispute-response templates for this case's category and, when one is chosen
    (`?reply=<id>`), its draft filled from the case."""
    offered = offered_templates(case.category)
    chosen = chosen_template(
        case.category, reply_form.data.get("template") if reply_form else request.GET.get("reply")
    )
    draft = None
    if chosen is not None and reply_form is None:
        from disputes.template_context import case_for_templates, case_template_context

        context = {
            **specialist_context(request.user),
            **case_template_context(case_for_templates(case.reference)),
        }
        draft = draft_from(chosen, context)
        if not draft.problems:
            reply_form = ReplyForm(
                initial={"template": chosen.pk, "subject": draft.subject, "body": draft.body}
            )
    return {
        "reply_templates": offered,
        "reply_chosen": chosen,
        "reply_draft": draft,
        "reply_form": reply_form,
    }


@role_required(*RULE_READERS)
def case_print(request, reference):
    """The whole case file on one page, laid out for paper: what an auditor reads."""
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    return render(request, "disputes/case_print.html", _case_context(request, case))


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
    return case_detail(request, reference, link_form=form, status=400)
