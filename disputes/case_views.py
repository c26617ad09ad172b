from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import (
    CaseBulkForm,
    CaseForm,
    CitationFormSet,
    ConversationLinkForm,
    DecisionForm,
    EvidenceForm,
    NoteForm,
    ReplyForm,
    TransitionForm,
    WalletSnapshotForm,
    citation_sources,
)
from disputes.filters import CaseFilter, DecisionFilter
from disputes.highlight import highlighted
from disputes.models import Decision, DisputeCase, EvidenceItem
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services import snapshots
from disputes.services.cases import (
    TRANSITIONS,
    case_conversation_link,
    case_note_add,
    case_reply_record,
    cases_bulk_assign,
    cases_bulk_transition,
    decision_approve,
    dispute_decide,
    dispute_file,
    dispute_transition,
    rules_changed_since_filing,
)
from disputes.services.evidence import evidence_add, file_type_of
from disputes.tables import ApprovalTable, CaseTable, DecisionTable
from playbooks.contexts import specialist_context
from playbooks.drafts import chosen_template, draft_from, offered_templates
from portal.csv_export import stream_csv
from portal.forms import add_service_errors
from portal.roles import has_role, role_required
from portal.search import normalise_query
from portal.tables import configure_table
from support.selectors import linked_conversation

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


def _decision_forms(case, data=None):
    """The decision form and its citation rows, for a case page or a posted decision."""
    changed = rules_changed_since_filing(case)
    sources = citation_sources(case, _current_rulebook(case))
    form = DecisionForm(data, case=case, rules_changed=changed, initial={"revision": case.revision})
    citations = CitationFormSet(data, prefix="citation", sources=sources)
    return form, citations


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
    decision_form, citation_formset = decision_forms or _decision_forms(case)
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
        "snapshot_form": snapshot_form or _snapshot_form(case),
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


def _snapshot_form(case):
    start, end = snapshots.default_window(case)
    wallet = case.account.wallets.order_by("pk").first()
    return WalletSnapshotForm(
        initial={
            "wallet_address": wallet.address if wallet else "",
            "start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "end": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
        }
    )


@require_POST
@role_required(*MARKET_WRITERS)
def case_reply(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = ReplyForm(request.POST)
    send = request.POST.get("send") == "1"  # the button: "Send to the user in Intercom"
    template = chosen_template(case.category, request.POST.get("template"))
    if form.is_valid() and template is None:
        form.add_error(None, "That template is not offered for this case any more; choose another.")
    if form.is_valid():
        try:
            case_reply_record(
                case=case,
                by=request.user,
                template=template,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                send=send,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not send:
                sent = "Reply kept in the case history with the template version it came from."
            elif settings.INTERCOM_ENABLED:
                sent = "Reply on its way to the user's Intercom conversation (within a minute); kept in the history."
            else:
                sent = "Reply kept in the history. Intercom is not connected: it waits in the outbox until it is."
            messages.success(request, sent)
            return redirect(reverse("disputes:case_detail", args=[case.reference]) + "#history-heading")
    return case_detail(request, reference, reply_form=form, status=400)


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
def case_decide(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form, citations = _decision_forms(case, request.POST)
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
    return case_detail(request, reference, decision_forms=(form, citations), status=400)


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


@require_POST
@role_required(*MARKET_WRITERS)
def case_evidence(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            evidence_add(
                case=case,
                by=request.user,
                kind=data["kind"],
                value=data["value"],
                description=data["description"],
                upload=data["upload"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Evidence added.")
            return redirect(reverse("disputes:case_detail", args=[case.reference]) + "#evidence-heading")
    return case_detail(request, reference, evidence_form=form, status=400)


@role_required(*RULE_READERS)
def evidence_file(request, reference, pk):
    """An uploaded evidence file, to people who may see the case. Images and PDFs open in the
    browser (sandboxed), anything else downloads."""
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    item = get_object_or_404(EvidenceItem, pk=pk, case=case, kind=EvidenceItem.Kind.FILE)
    file_type = file_type_of(item)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        content_type=item.content_type,
        as_attachment=not (file_type and file_type.inline),
        filename=item.file_name,
    )
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@role_required(*MARKET_WRITERS)
def case_snapshot(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = WalletSnapshotForm(request.POST)
    if form.is_valid():
        try:
            snapshot = snapshots.wallet_snapshot_take(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Wallet activity attached: {snapshot.row_count} rows.")
            return redirect(reverse("disputes:case_detail", args=[case.reference]) + "#snapshots-heading")
    return case_detail(request, reference, snapshot_form=form, status=400)


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


@require_POST
@role_required(*MARKET_WRITERS)
def market_cases_bulk(request, pk):
    market = selectors.market_get_for_user(user=request.user, pk=pk, to_change=True)
    form = CaseBulkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ids = [case.pk for case in data["selected"] if case.market_id == market.pk]
        try:
            if data["action"] == "assign":
                changed = cases_bulk_assign(case_ids=ids, by=request.user, assignee=data["assignee"])
                who = data["assignee"].username if data["assignee"] else "nobody"
                messages.success(request, f"{changed} case{'s' if changed != 1 else ''} assigned to {who}.")
            else:
                changed = cases_bulk_transition(
                    case_ids=ids, by=request.user, to=data["to"], reason=data["reason"]
                )
                label = DisputeCase.Status(data["to"]).label.lower()
                messages.success(request, f"{changed} case{'s' if changed != 1 else ''} moved to {label}.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, " ".join(msg for errors in form.errors.values() for msg in errors))
    return redirect(reverse("disputes:market_detail", args=[market.pk]) + "#cases-heading")
