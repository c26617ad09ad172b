"""The case list (with its CSV export) and filing a new case."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from disputes import selectors
from disputes.case_forms import CaseForm
from disputes.filters import CaseFilter
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.selectors.cases import is_word_search
from disputes.services.cases import dispute_file
from disputes.tables import CASE_COLUMNS, CaseTable
from portal.columns import csv_response
from portal.forms import add_service_errors
from portal.roles import has_role, role_required
from portal.search import normalise_query
from portal.tables import configure_table


@role_required(*RULE_READERS)
def case_list(request):
    query = normalise_query(request.GET.get("q"))
    case_filter = CaseFilter(request.GET, queryset=selectors.case_list(query=query))
    valid = case_filter.is_valid()
    cases = case_filter.qs if valid else case_filter.queryset.none()
    if request.GET.get("export") == "csv" and valid:
        return csv_response(
            filename="disputes.csv", queryset=cases.order_by("-year", "-number"), columns=CASE_COLUMNS
        )
    # Words are ranked best match first (the selector's order) unless a column is chosen with `sort`.
    table = configure_table(request, CaseTable(cases, order_by=() if is_word_search(query) else None))
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
