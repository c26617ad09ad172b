"""Escalation pages: the list, one escalation (history, pages, acknowledge, resolve), and
raising one from a case, a conversation or an account."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Account
from disputes.models import DisputeCase
from oncall.forms.escalations import RaiseForm, ResolveForm
from oncall.models import Escalation
from oncall.selectors.escalations import (
    ESCALATION_READERS,
    ESCALATION_WORKERS,
    escalation_get_for_user,
    escalation_item,
    escalations_listed,
)
from oncall.services.escalations import escalation_acknowledge, escalation_raise, escalation_resolve
from oncall.tables import EscalationTable
from portal.roles import Role, has_role, role_required
from portal.tables import configure_table
from support.models import Conversation

ITEM_LOOKUPS = {
    "case": (DisputeCase.objects.select_related("account"), "reference"),
    "conversation": (Conversation.objects.select_related("account"), "intercom_id"),
    "account": (Account.objects.all(), "pk"),
}


@role_required(*ESCALATION_READERS)
def escalation_list(request):
    show_all = request.GET.get("status") == "all"
    rows = escalations_listed()
    if not show_all:
        rows = rows.filter(status__in=Escalation.OPEN_STATUSES)
    table = configure_table(request, EscalationTable(rows))
    return render(request, "oncall/escalation_list.html", {"table": table, "show_all": show_all})


@role_required(*ESCALATION_READERS)
def escalation_detail(request, pk):
    escalation = escalation_get_for_user(user=request.user, pk=pk)
    item_kind, item = escalation_item(escalation)
    context = {
        "escalation": escalation,
        "item_kind": item_kind,
        "item": item,
        "can_work": has_role(request.user, Role.SPECIALIST),
        "resolve_form": ResolveForm(),
    }
    return render(request, "oncall/escalation_detail.html", context)


@require_POST
@role_required(*ESCALATION_WORKERS)
def escalation_acknowledge_view(request, pk):
    escalation = escalation_get_for_user(user=request.user, pk=pk)
    try:
        escalation_acknowledge(escalation=escalation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Acknowledged: paging has stopped and the history records you.")
    return redirect("oncall:escalation_detail", pk=escalation.pk)


@require_POST
@role_required(*ESCALATION_WORKERS)
def escalation_resolve_view(request, pk):
    escalation = escalation_get_for_user(user=request.user, pk=pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            escalation_resolve(escalation=escalation, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Resolved.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("oncall:escalation_detail", pk=escalation.pk)


@role_required(*ESCALATION_WORKERS)
def escalation_raise_view(request):
    """/oncall/escalations/new/?case=<reference> (or conversation=<Intercom id>, account=<id>)."""
    item_kind, item = _item_from(request.GET)
    form = RaiseForm(request.POST or None)
    open_one = item.escalations.filter(status__in=Escalation.OPEN_STATUSES).first()
    if request.method == "POST" and form.is_valid():
        try:
            escalation, created = escalation_raise(by=request.user, **{item_kind: item}, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if created:
                messages.success(
                    request, f"Escalation ESC-{escalation.pk} raised: paging whoever is on call."
                )
            else:
                messages.info(
                    request, f"ESC-{escalation.pk} was already open for this item: your raise is added to it."
                )
            return redirect("oncall:escalation_detail", pk=escalation.pk)
    context = {"form": form, "item_kind": item_kind, "item": item, "open_one": open_one}
    return render(request, "oncall/escalation_raise.html", context, status=400 if form.errors else 200)


def _item_from(params) -> tuple[str, object]:
    for kind, (queryset, field) in ITEM_LOOKUPS.items():
        value = (params.get(kind) or "").strip()
        if value:
            try:
                return kind, queryset.get(**{field: value})
            except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
                raise Http404(f"No such {kind}.") from None
    raise Http404("Raise an escalation from a case, a conversation in the queue, or an account.")


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(None if field == "__all__" else field, errors)
    else:
        form.add_error(None, error.messages)
