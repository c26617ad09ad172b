"""Evidence on a case: items and files, and frozen wallet activity."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import EvidenceForm, WalletSnapshotForm
from disputes.models import EvidenceItem
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services import snapshots
from disputes.services.evidence import evidence_add, file_type_of
from disputes.views.cases import case_detail
from portal.forms import add_service_errors
from portal.roles import role_required


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
    return case_detail(request, reference, posted={"evidence_form": form})


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
    return case_detail(request, reference, posted={"snapshot_form": form})
