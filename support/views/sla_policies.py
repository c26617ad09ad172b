"""SLA policy pages: create, edit, delete (when nothing refers to it)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from portal.forms import add_service_errors
from portal.roles import role_required
from support.forms import PolicyForm, policy_initial
from support.selectors import SLA_EDITORS, policy_get_for_user
from support.sla.policies import policy_delete, policy_save
from support.views.deleting import delete_confirm_page


@role_required(*SLA_EDITORS)
def policy_edit(request, pk=None):
    policy = policy_get_for_user(user=request.user, pk=pk, to_change=True) if pk else None
    initial = policy_initial(policy) if policy else None
    form = PolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            policy = policy_save(policy=policy, data=form.policy_input())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Policy “{policy.name}” saved at position {policy.position}.")
            return redirect("support:sla")
    context = {"form": form, "policy": policy}
    return render(request, "support/sla/policy_form.html", context, status=400 if form.errors else 200)


@role_required(*SLA_EDITORS)
def policy_delete_confirm(request, pk):
    policy = policy_get_for_user(user=request.user, pk=pk, to_change=True)
    return delete_confirm_page(
        request,
        delete=lambda: policy_delete(policy=policy),
        done=f"Policy “{policy.name}” deleted.",
        template="support/sla/policy_delete.html",
        context={"policy": policy},
    )
