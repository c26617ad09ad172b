"""SLA calendar pages: create and edit (windows per weekday, holidays as rows), add a country's
public holidays or an iCalendar file's, delete when no policy uses it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.forms import add_service_errors
from portal.roles import role_required
from support.forms import (
    CalendarForm,
    IcalImportForm,
    PublicHolidaysForm,
    add_calendar_errors,
    calendar_initial,
    holiday_formset,
)
from support.models import BusinessCalendar
from support.selectors import SLA_EDITORS, calendar_get_for_user
from support.sla.calendars import HolidayInput, calendar_delete, calendar_holidays_add, calendar_save
from support.sla.holiday_sources import holidays_from_ical, public_holidays
from support.views.deleting import delete_confirm_page

MORE_ROWS = 3


def _more_rows(data):
    """The posted rows plus MORE_ROWS empty ones (the "More holiday rows" button saves nothing)."""
    data = data.copy()
    try:
        total = int(data.get("holidays-TOTAL_FORMS", "0"))
    except ValueError:
        total = 0
    data["holidays-TOTAL_FORMS"] = str(max(0, total) + MORE_ROWS)
    return data


def _render_calendar_page(request, *, calendar, form, formset, public=None, ical=None, status=200):
    context = {
        "calendar": calendar,
        "form": form,
        "formset": formset,
        "public_form": public or PublicHolidaysForm(),
        "ical_form": ical or IcalImportForm(),
    }
    return render(request, "support/sla/calendar_form.html", context, status=status)


@role_required(*SLA_EDITORS)
def calendar_edit(request, pk=None):
    calendar = calendar_get_for_user(user=request.user, pk=pk, to_change=True) if pk else None
    initial = calendar_initial(calendar) if calendar else {"time_zone": "UTC"}
    if request.method == "POST" and "more_rows" in request.POST:
        data = _more_rows(request.POST)
        form = CalendarForm(data, initial=initial)
        return _render_calendar_page(
            request, calendar=calendar, form=form, formset=holiday_formset(data, calendar=calendar)
        )
    data = request.POST if request.method == "POST" else None
    form = CalendarForm(data, initial=initial)
    formset = holiday_formset(data, calendar=calendar)
    if data is not None and form.is_valid() & formset.is_valid():
        try:
            calendar = calendar_save(
                calendar=calendar,
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
                description=form.cleaned_data["description"],
                windows=form.windows(),
                holidays=formset.holidays(),
            )
        except ValidationError as error:
            add_calendar_errors(form, formset, error)
        else:
            messages.success(request, f"Calendar “{calendar.name}” saved.")
            return redirect("support:sla_calendar_edit", calendar.pk)
    failed = data is not None
    return _render_calendar_page(
        request, calendar=calendar, form=form, formset=formset, status=400 if failed else 200
    )


def _holidays_added(request, calendar, holidays) -> str | None:
    """Add these holidays; the error message when the service refuses them."""
    try:
        added = calendar_holidays_add(calendar=calendar, holidays=holidays)
    except ValidationError as error:
        return " ".join(error.messages)
    skipped = len(holidays) - added
    messages.success(
        request,
        f"Added {added} holiday{'s' if added != 1 else ''}"
        + (f"; {skipped} {'was' if skipped == 1 else 'were'} already there." if skipped else "."),
    )
    return None


def _existing_calendar_page(request, calendar, **forms):
    return _render_calendar_page(
        request,
        calendar=calendar,
        form=CalendarForm(initial=calendar_initial(calendar)),
        formset=holiday_formset(calendar=calendar),
        status=400,
        **forms,
    )


@require_POST
@role_required(*SLA_EDITORS)
def calendar_public_holidays(request, pk):
    calendar = calendar_get_for_user(user=request.user, pk=pk, to_change=True)
    form = PublicHolidaysForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            found = public_holidays(data["country"], data["years"], data["subdivision"])
        except ValueError as error:
            form.add_error("subdivision" if data["subdivision"] else "country", str(error))
        else:
            problem = _holidays_added(request, calendar, [HolidayInput(*row) for row in found])
            if problem is None:
                return redirect("support:sla_calendar_edit", calendar.pk)
            add_service_errors(form, ValidationError(problem))
    return _existing_calendar_page(request, calendar, public=form)


@require_POST
@role_required(*SLA_EDITORS)
def calendar_ical_import(request, pk):
    calendar = calendar_get_for_user(user=request.user, pk=pk, to_change=True)
    form = IcalImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            found = holidays_from_ical(form.cleaned_data["ical_file"].read(), time_zone=calendar.time_zone)
        except ValueError as error:
            form.add_error("ical_file", str(error))
        else:
            problem = _holidays_added(request, calendar, [HolidayInput(*row) for row in found])
            if problem is None:
                return redirect("support:sla_calendar_edit", calendar.pk)
            form.add_error("ical_file", problem)
    return _existing_calendar_page(request, calendar, ical=form)


@role_required(*SLA_EDITORS)
def calendar_delete_confirm(request, pk):
    calendar: BusinessCalendar = calendar_get_for_user(user=request.user, pk=pk, to_change=True)
    return delete_confirm_page(
        request,
        delete=lambda: calendar_delete(calendar=calendar),
        done=f"Calendar “{calendar.name}” deleted.",
        template="support/sla/calendar_delete.html",
        context={"calendar": calendar, "policies": list(calendar.policies.order_by("position"))},
    )
