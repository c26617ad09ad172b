"""SLA policy pages: create, edit, delete (when nothing refers to it)."""

from portal.roles import role_required
from support.forms import PolicyForm, policy_initial
from support.selectors import SLA_EDITORS, policy_get_for_user
from support.sla.policies import policy_delete, policy_save
from support.views.deleting import delete_confirm_page, form_save_page


@role_required(*SLA_EDITORS)
def policy_edit(request, pk=None):
    policy = policy_get_for_user(user=request.user, pk=pk, to_change=True) if pk else None
    initial = policy_initial(policy) if policy else None
    form = PolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    return form_save_page(
        request,
        form=form,
        save=lambda _: policy_save(policy=policy, data=form.policy_input()),
        done=lambda saved: f"Policy “{saved.name}” saved at position {saved.position}.",
        back="support:sla",
        template="support/sla/policy_form.html",
        context={"policy": policy},
    )


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
