from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from portal.columns import csv_response, table_columns
from portal.csv_export import stream_csv
from portal.roles import has_role, role_required
from portal.tables import PortalTable, configure_table
from reports.drawing import draw
from reports.exporting import FIGURE_HEADER, figure_rows
from reports.periods import period_from_request
from reports.rows import BadFilter, RowQuery, parse_filters, row_list
from reports.selectors import READERS, person_scope, report_for, sees_everyone


def _unreadable_period(form):
    """A CSV asked for a period the form cannot read: 400 with the form's words, rather than a
    file of the default period that looks like the one asked for (the page shows the errors
    beside the default figures instead)."""
    if form.is_bound and not form.is_valid():
        errors = {field: [str(e) for e in problems] for field, problems in form.errors.items()}
        return JsonResponse({"error": "The period could not be read.", "fields": errors}, status=400)
    return None


@role_required(*READERS)
def report(request):
    form, period = period_from_request(request)
    if request.GET.get("format") == "csv" and (bad := _unreadable_period(form)):
        return bad
    report = report_for(request.user, period)
    if request.GET.get("format") == "csv":
        return _summary_csv(report)
    for section in report.sections:
        section.drawn = [(chart, draw(chart)) for chart in section.charts]
    context = {"form": form, "period": period, "report": report, "reads_weeks": sees_everyone(request.user)}
    return render(request, "reports/report.html", context)


def _summary_csv(report):
    return stream_csv(
        filename=f"report-{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}.csv",
        header=FIGURE_HEADER,
        rows=figure_rows(report.sections, report.period),
    )


class RowTable(PortalTable):
    def __init__(self, *args, columns, **kwargs):
        super().__init__(*args, extra_columns=table_columns(columns), **kwargs)


def _related(queryset, columns):
    """Join the rows' related objects the columns read ("account__tier__name"), so a page of
    rows is one query, not one per cell."""
    relations = set()
    for column in columns:
        parts = column.value_path.split("__")[:-1]
        model = queryset.model
        for depth, part in enumerate(parts):
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist:
                break
            if not field.is_relation or field.many_to_many or field.one_to_many:
                break
            relations.add("__".join(parts[: depth + 1]))
            model = field.related_model
    return queryset.select_related(*sorted(relations)) if relations else queryset


@role_required(*READERS)
def rows(request, key):
    listing = row_list(key)
    if listing is None:
        raise Http404("No such list.")
    if not has_role(request.user, *listing.roles):
        raise PermissionDenied("Your role does not give access to this list.")
    form, period = period_from_request(request)
    if request.GET.get("previous") == "1":
        period = period.previous()
    try:
        filters = parse_filters(listing, request.GET)
    except BadFilter as problem:
        return HttpResponseBadRequest(
            render_to_string(
                "reports/bad_filter.html", {"problem": str(problem), "listing": listing}, request
            )
        )
    row_query = RowQuery(period=period, filters=filters, specialist=person_scope(request.user))
    queryset = listing.rows(row_query)
    if request.GET.get("format") == "csv":
        if bad := _unreadable_period(form):
            return bad
        return csv_response(
            filename=f"{listing.key}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv",
            queryset=queryset,
            columns=listing.columns,
        )
    table = RowTable(_related(queryset, listing.columns), columns=listing.columns)
    if listing.counted is not None:
        # django-tables2 counts its data once and keeps the length here: count the rows without
        # the joins that only name things.
        table.data._length = listing.counted(row_query).count()
    table = configure_table(request, table)
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    for name in ("page", "sort"):
        csv_query.pop(name, None)
    return render(
        request,
        "reports/rows.html",
        {
            "listing": listing,
            "table": table,
            "period": period,
            "form": form,
            "filters": filters,
            "csv_query": csv_query.urlencode(),
        },
    )
