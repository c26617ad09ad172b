"""The resolution radar's actions: *Told them* on a heads-up (My day), *Refresh holders* on a
market's page."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Channel
from accounts.selectors import market_holdings
from disputes.models import HeadsUp, Market
from disputes.radar.told import MESSAGE_MAX_CHARS, heads_up_told
from portal.roles import Role, role_required


class ToldForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.INTERCOM, label="How")
    send_message = forms.BooleanField(required=False)
    message = forms.CharField(required=False, max_length=MESSAGE_MAX_CHARS)


@require_POST
@role_required(Role.SPECIALIST, Role.ADMIN)
def heads_up_told_view(request, pk):
    heads_up = get_object_or_404(HeadsUp, pk=pk)
    form = ToldForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Pick how you told them (Intercom, e-mail, call…), with a message under 4,000 "
            "characters; nothing was logged or sent.",
        )
        return redirect("/")
    data = form.cleaned_data
    try:
        logged = heads_up_told(
            heads_up=heads_up,
            by=request.user,
            channel=data["channel"],
            send_message=data["send_message"],
            message=data["message"],
        )
    except ValidationError as error:
        messages.error(request, f"{' '.join(error.messages)} Nothing was logged or sent.")
        return redirect("/")
    if logged:
        accounts = f"{logged} account{'s' if logged != 1 else ''}"
        sent = (
            f"; the message goes to {'each' if logged != 1 else 'it'} in Intercom"
            if data["send_message"]
            else ""
        )
        messages.success(request, f"Logged a proactive check-in on {accounts}{sent}.")
    else:
        messages.info(request, "Already marked as told; nothing logged twice.")
    return redirect("/")


@require_POST
@role_required(Role.SPECIALIST, Role.ADMIN)
def market_holders_refresh(request, pk):
    """Fetch again, in the background, the positions of the wallets that hold the market."""
    from django_q.tasks import async_task

    market = get_object_or_404(Market, pk=pk)
    back = reverse("disputes:market_detail", args=[market.pk]) + "#holders-heading"
    holders = {h.account.pk for h in market_holdings(market.condition_id)} if market.condition_id else set()
    if not holders:
        messages.info(request, "No portfolio account holds this market as last refreshed: nothing to fetch.")
        return redirect(back)
    condition_id = market.condition_id
    transaction.on_commit(lambda: async_task("accounts.tasks.market_exposure_refresh", condition_id))
    messages.success(
        request,
        f"Fetching the positions of the {len(holders)} account{'s' if len(holders) != 1 else ''} holding it "
        "again, in the background (a minute for a big market); reload the page to see them.",
    )
    return redirect(back)
