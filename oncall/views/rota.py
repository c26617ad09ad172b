"""The rota pages: /oncall/ (now, the next 14 days, coverage gaps, hand-off notes) and the
Admins' forms to create and edit rotas and to add and delete overrides."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncall.forms.rota import HandoffNoteForm, OverrideForm, RotaForm, rota_initial
from oncall.selectors.rota import (
    CALENDAR_DAYS,
    GAP_DAYS,
    NOTE_AUTHORS,
    ROTA_EDITORS,
    ROTA_READERS,
    oncall_overview,
    override_get_for_user,
    rota_get_for_user,
    upcoming_overrides,
)
from oncall.services.rota import handoff_note_create, override_create, override_delete, rota_save
from portal.forms import add_service_errors
from portal.roles import has_role, role_required


def _overview_page(request, *, failed_note: tuple[int, HandoffNoteForm] | None = None, status=200):
    rotas = oncall_overview(timezone.now())
    may_note = has_role(request.user, *NOTE_AUTHORS)
    for entry in rotas:
        entry.can_note = may_note and request.user.pk in entry.people_ids
        entry.note_form = (
            failed_note[1]
            if failed_note and failed_note[0] == entry.rota.pk
            else HandoffNoteForm(auto_id=f"note-{entry.rota.pk}-%s")
        )
    context = {
        "rotas": rotas,
        "can_edit": has_role(request.user, *ROTA_EDITORS),
        "calendar_days": CALENDAR_DAYS,
        "gap_days": GAP_DAYS,
        "zone": timezone.get_current_timezone_name(),
    }
    return render(request, "oncall/overview.html", context, status=status)


@role_required(*ROTA_READERS)
def overview(request):
    return _overview_page(request)


@require_POST
@role_required(*NOTE_AUTHORS)
def handoff_note_new(request, pk):
    rota = rota_get_for_user(user=request.user, pk=pk)
    form = HandoffNoteForm(request.POST, auto_id=f"note-{rota.pk}-%s")
    if form.is_valid():
        try:
            handoff_note_create(rota=rota, author=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Hand-off note added to “{rota.name}”.")
            return redirect("oncall:overview")
    return _overview_page(request, failed_note=(rota.pk, form), status=400)


@role_required(*ROTA_EDITORS)
def rota_edit(request, pk=None):
    rota = rota_get_for_user(user=request.user, pk=pk, to_change=True) if pk else None
    initial = rota_initial(rota) if rota else {"time_zone": "UTC", "rotation_days": 7, "is_active": True}
    data = request.POST if request.method == "POST" else None
    form = RotaForm(data, initial=initial)
    if data is not None and form.is_valid():
        values = {k: form.cleaned_data[k] for k in ("name", "time_zone", "starts_on", "handoff_time")}
        try:
            rota = rota_save(
                rota=rota,
                **values,
                rotation_days=form.cleaned_data["rotation_days"],
                webhook_url=form.cleaned_data["webhook_url"],
                is_active=form.cleaned_data["is_active"],
                layers=form.layers,
            )
        except ValidationError as error:
            form.add_rota_errors(error)
        else:
            messages.success(request, f"Rota “{rota.name}” saved.")
            return redirect("oncall:overview")
    status = 400 if data is not None else 200
    return render(request, "oncall/rota_form.html", {"rota": rota, "form": form}, status=status)


@role_required(*ROTA_EDITORS)
def override_new(request, pk):
    rota = rota_get_for_user(user=request.user, pk=pk, to_change=True)
    data = request.POST if request.method == "POST" else None
    form = OverrideForm(data, rota=rota)
    if data is not None and form.is_valid():
        try:
            override = override_create(rota=rota, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Override added: {override.user} covers {override.layer.name}.")
            return redirect("oncall:override_new", rota.pk)
    context = {"rota": rota, "form": form, "overrides": upcoming_overrides(rota, timezone.now())}
    return render(request, "oncall/override_form.html", context, status=400 if data is not None else 200)


@require_POST
@role_required(*ROTA_EDITORS)
def override_delete_view(request, pk):
    override = override_get_for_user(user=request.user, pk=pk)
    override_delete(override=override)
    messages.success(request, f"Override deleted: {override.user} no longer covers {override.layer.name}.")
    return redirect("oncall:override_new", override.layer.rota_id)
