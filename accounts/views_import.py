"""Pages for importing a book of business from CSV. The rules live in `accounts.importing`, the
writes in `accounts.services.importing`."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.importing.help import COLUMN_HELP, example_csv, example_owner
from accounts.importing.parsing import MAX_FILE_BYTES, MAX_ROWS
from accounts.importing.selectors import account_imports_recent
from accounts.models import AccountImport
from accounts.services import importing
from accounts.services.importing import VALID_ONLY_LABEL, account_import_start
from portal.forms import add_service_errors
from portal.roles import Role, role_required

IMPORTERS = (Role.SPECIALIST, Role.ADMIN)
ERRORS_SHOWN = 500


class AccountImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, with a header row; up to {MAX_FILE_BYTES // 1024 // 1024} MB and {MAX_ROWS:,} rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    valid_only = forms.BooleanField(
        label=VALID_ONLY_LABEL,
        required=False,
        help_text="Rows with errors are skipped and listed. Without this, nothing is imported while any "
        "row has an error.",
    )


@role_required(*IMPORTERS)
def account_import_new(request):
    posted = request.method == "POST"
    form = AccountImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            account_import = account_import_start(
                by=request.user,
                uploaded_file=form.cleaned_data["file"],
                valid_only=form.cleaned_data["valid_only"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _announce(request, account_import)
            return redirect("accounts:import_detail", pk=account_import.pk)
    context = {
        "form": form,
        "columns": COLUMN_HELP,
        "limits": {"megabytes": MAX_FILE_BYTES // 1024 // 1024, "rows": f"{MAX_ROWS:,}"},
        "background_rows": importing.BACKGROUND_THRESHOLD_ROWS,
        "recent": account_imports_recent(),
    }
    return render(request, "accounts/import_form.html", context, status=400 if form.errors else 200)


def _announce(request, account_import: AccountImport) -> None:
    """A headline only: the page it leads to gives the counts and the errors."""
    name = account_import.original_name
    if account_import.status == AccountImport.Status.DONE:
        messages.success(request, f"{name} is imported.")
    elif account_import.status == AccountImport.Status.FAILED:
        messages.error(request, f"{name} was not imported.")
    else:
        messages.info(
            request,
            f"{name} has {account_import.total_rows:,} rows, so it is being imported in the background. "
            "This page shows how far it has got.",
        )


@role_required(*IMPORTERS)
def account_import_detail(request, pk):
    account_import = get_object_or_404(AccountImport.objects.select_related("created_by"), pk=pk)
    errors = account_import.errors or []
    context = {
        "account_import": account_import,
        "errors": errors[:ERRORS_SHOWN],
        "errors_not_shown": max(0, len(errors) - ERRORS_SHOWN),
        "running": account_import.status in (AccountImport.Status.PENDING, AccountImport.Status.RUNNING),
    }
    return render(request, "accounts/import_detail.html", context)


@role_required(*IMPORTERS)
def account_import_example(request):
    response = HttpResponse(
        example_csv(owner=example_owner(request.user)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="accounts-example.csv"'
    return response
