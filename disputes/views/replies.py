"""Replies to the user from a case, drafted from a response template."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.case_forms import ReplyForm
from disputes.selectors import MARKET_WRITERS
from disputes.services.cases import case_reply_record
from disputes.views.cases import case_detail
from playbooks.drafts import chosen_template
from portal.forms import add_service_errors
from portal.roles import role_required


@require_POST
@role_required(*MARKET_WRITERS)
def case_reply(request, reference):
    case = selectors.case_get_for_user(user=request.user, reference=reference)
    form = ReplyForm(request.POST)
    send = request.POST.get("send") == "1"  # the button: "Send to the user in Intercom"
    template = chosen_template(case.category, request.POST.get("template"))
    if form.is_valid() and template is None:
        form.add_error(None, "That template is not offered for this case any more; choose another.")
    if form.is_valid():
        try:
            case_reply_record(
                case=case,
                by=request.user,
                template=template,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                send=send,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not send:
                sent = "Reply kept in the case history with the template version it came from."
            elif settings.INTERCOM_ENABLED:
                sent = "Reply on its way to the user's Intercom conversation (within a minute); kept in the history."
            else:
                sent = "Reply kept in the history. Intercom is not connected: it waits in the outbox until it is."
            messages.success(request, sent)
            return redirect(reverse("disputes:case_detail", args=[case.reference]) + "#history-heading")
    return case_detail(request, reference, posted={"reply_form": form})
