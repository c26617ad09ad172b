"""/oncall/ack/<token>/: the link in every page. After sign-in it shows the escalation and one
Acknowledge button; the token grants nothing else. A forged, expired or spent link gets a page
that says so."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone

from oncall.models import Escalation, Page
from oncall.selectors.escalations import escalation_item
from oncall.services.escalations import escalation_acknowledge
from oncall.tokens import BadToken, ack_token_read
from portal.roles import Role, has_role


def ack(request, token: str):
    try:
        data = ack_token_read(token)
    except BadToken as error:
        why = "This link has expired." if error.expired else "This link is not one the portal sent."
        return _refused(request, why, status=410 if error.expired else 400)
    escalation = (
        Escalation.objects.select_related(
            "case__account", "conversation__account", "account", "acknowledged_by", "resolved_by"
        )
        .filter(pk=data.escalation_id)
        .first()
    )
    page = (
        Page.objects.select_related("recipient")
        .filter(pk=data.page_id, escalation_id=data.escalation_id)
        .first()
    )
    if escalation is None or page is None:
        return _refused(request, "This escalation no longer exists.", status=404)
    if not has_role(request.user, Role.SPECIALIST):
        return _refused(request, "Only a Specialist can acknowledge an escalation.", status=403)
    error = None
    if request.method == "POST":
        try:
            escalation = escalation_acknowledge(escalation=escalation, by=request.user)
        except ValidationError as refused:
            error = " ".join(refused.messages)
    item_kind, item = escalation_item(escalation)
    context = {
        "escalation": escalation,
        "page": page,
        "item_kind": item_kind,
        "item": item,
        "error": error,
        "now": timezone.now(),
    }
    return render(request, "oncall/ack.html", context, status=409 if error else 200)


def _refused(request, why: str, *, status: int):
    return render(request, "oncall/ack_refused.html", {"why": why}, status=status)
