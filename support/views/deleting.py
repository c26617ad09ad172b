"""The confirm-then-delete page shared by SLA calendars and policies and routing rules."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render


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
