"""The resolution radar's one action: *Told them* on a heads-up (My day)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.models import Channel
from disputes.models import HeadsUp
from disputes.radar.told import heads_up_told
from portal.roles import Role, role_required


class ToldForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.INTERCOM, label="How")


@require_POST
@role_required(Role.SPECIALIST, Role.ADMIN)
def heads_up_told_view(request, pk):
    heads_up = get_object_or_404(HeadsUp, pk=pk)
    form = ToldForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick how you told them (Intercom, e-mail, call…); nothing was logged.")
        return redirect("/")
    try:
        logged = heads_up_told(heads_up=heads_up, by=request.user, channel=form.cleaned_data["channel"])
    except ValidationError:
        messages.error(request, "Pick how you told them; nothing was logged.")
        return redirect("/")
    if logged:
        messages.success(
            request, f"Logged a proactive check-in on {logged} account{'s' if logged != 1 else ''}."
        )
    else:
        messages.info(request, "Already marked as told; nothing logged twice.")
    return redirect("/")
