"""Pages shared by the SLA and routing settings: confirm-then-delete, and a form saved by a service."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from portal.forms import add_service_errors


def delete_confirm_page(
    request, *, delete: Callable[[], None], done: str, template: str, context: dict, back: str = "support:sla"
):
    """GET shows the confirmation; POST deletes and goes `back` (the SLA page unless told), or
    shows the service's refusal (something still uses the row) on the same page with a 400."""
    error = None
    if request.method == "POST":
        try:
            delete()
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, done)
            return redirect(back)
    return render(request, template, {**context, "error": error}, status=400 if error else 200)


def form_save_page(
    request,
    *,
    form,
    save: Callable[[dict], object],
    done: Callable[[object], str],
    back: str,
    template: str,
    context: dict,
):
    """A form page whose POST goes to a service: saved, the message and back to `back`; refused
    by the form or the service (a ValidationError, shown on its fields), the page again with 400."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(dict(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done(saved))
            return redirect(back)
    return render(request, template, {"form": form, **context}, status=400 if form.errors else 200)
