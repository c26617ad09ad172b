"""/feedback/areas/: Product (and Admins) manage the list of product areas."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from feedback import areas as services
from feedback.models import ProductArea
from portal.forms import add_service_errors
from portal.roles import role_required

ACTIONS = ("rename", "deactivate", "activate")


class AreaForm(forms.Form):
    name = forms.CharField(
        max_length=services.NAME_MAX,
        error_messages={"required": "Give the area a name."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _page(request, *, add_form=None, failed=None, errors=(), value="", status=200):
    """The page; `failed` is the area whose rename or update was refused, with `errors` shown
    next to it and `value` (the refused name) kept in its field."""
    context = {
        "areas": list(services.area_list()),
        "add_form": add_form or AreaForm(prefix="new"),
        "failed": failed,
        "failed_errors": list(errors),
        "failed_value": value,
        "name_max": services.NAME_MAX,
    }
    return render(request, "feedback/areas.html", context, status=status)


@role_required(*services.AREA_MANAGERS)
def area_list(request):
    """The areas; a POST adds one."""
    if request.method != "POST":
        return _page(request)
    form = AreaForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            area = services.area_create(by=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Area “{area.name}” added.")
            return redirect("feedback:areas")
    return _page(request, add_form=form, status=400)


@require_POST
@role_required(*services.AREA_MANAGERS)
def area_update(request, pk):
    """Rename (action=rename with a name), deactivate or activate one area."""
    area = get_object_or_404(ProductArea, pk=pk)
    action = request.POST.get("action", "")
    name = request.POST.get("name", "")
    if action not in ACTIONS:
        return _page(
            request,
            failed=area.pk,
            errors=["Choose what to do with the area: rename, deactivate or activate."],
            value=name,
            status=400,
        )
    try:
        if action == "rename":
            old = area.name
            area = services.area_rename(area=area, by=request.user, name=name)
            messages.success(request, f"“{old}” is now “{area.name}”.")
        else:
            area = services.area_set_active(area=area, by=request.user, active=action == "activate")
            messages.success(
                request,
                f"“{area.name}” is active again."
                if area.is_active
                else f"“{area.name}” deactivated: no longer offered for new feedback; its items keep it.",
            )
    except ValidationError as error:
        return _page(request, failed=area.pk, errors=error.messages, value=name, status=400)
    return redirect("feedback:areas")
