"""The resolution radar in the demo (`seed_demo`): one open demo market that the portfolio holds is
disputed, so the owners of its holders have a heads-up on My day and its page lists the holders.

Nothing is made up around the radar: the dispute is found by the real detection (the market's
state before and after the refresh that saw it, passed to `changes_detect`) and the heads-ups are
made by the fan-out's `heads_ups_create` from the exposure the seed stored. Mail is left to the
worker: `changes_detect` queues the fan-out for after the seed commits, and that run finds the
heads-ups made and mails them (to the console under `make run`, whose EMAIL_URL defaults to
consolemail://). The positions are the synthetic Data API fixtures'; the market is a synthetic
demo market (its rules say so)."""

import dataclasses
from collections import Counter

from django.utils import timezone

from accounts.models import Exposure
from disputes.models import Market
from disputes.radar.detection import MarketState, changes_detect
from disputes.radar.fanout import heads_ups_create


def seed_radar(*, owner) -> dict:
    """Dispute the open demo market held by the most portfolio accounts among those `owner`'s
    accounts hold (so that owner is told), as an hourly refresh would see an early proposal
    disputed. Returns what it made; nothing when the owner's accounts hold no demo market."""
    held = set(Exposure.objects.filter(account__owner=owner).values_list("condition_id", flat=True))
    markets = {
        m.condition_id: m
        for m in Market.objects.filter(
            source=Market.Source.GAMMA, is_closed=False, condition_id__in=held
        ).order_by("pk")
    }
    if not markets:
        return {"market": None, "signals": 0, "heads_ups": 0}
    holders = Counter(
        condition_id
        for condition_id, _ in Exposure.objects.filter(condition_id__in=markets)
        .values_list("condition_id", "account_id")
        .distinct()
    )
    market = markets[max(markets, key=lambda c: (holders[c], -markets[c].pk))]
    now = timezone.now()
    # The refresh before this one saw the proposal (made early, before the market's end); this one
    # sees it disputed.
    proposed = [*(market.uma_history or []), "proposed"]
    before = dataclasses.replace(MarketState.of(market), uma_history=tuple(proposed))
    market.uma_history = [*proposed, "disputed"]
    market.uma_status = "disputed"
    market.last_fetched_at = now
    market.save(update_fields=["uma_history", "uma_status", "last_fetched_at", "updated_at"])
    signals = changes_detect(market, before, now=now)
    heads_ups = [heads_up for signal in signals for heads_up in heads_ups_create(signal)]
    return {"market": market, "signals": len(signals), "heads_ups": len(heads_ups)}
