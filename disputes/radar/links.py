"""A case and the heads-up before it: a case filed about a market within `FOLLOWS_WITHIN` of a
heads-up that named the case's account (to its owner) follows that heads-up. The case page and
the market's radar link each other; the disputes report counts the cases that followed one."""

import datetime as dt

from django.db.models import Prefetch

from disputes.models import DisputeCase, HeadsUp, MarketSignal

FOLLOWS_WITHIN = dt.timedelta(days=30)
SIGNALS_SHOWN = 20


def heads_up_before(*, account, market, at: dt.datetime) -> HeadsUp | None:
    """The newest heads-up about `market` to the account's owner, from the `FOLLOWS_WITHIN`
    before `at`, whose accounts include this one (a heads-up that did not name it is not its)."""
    if market is None:
        return None
    recent = HeadsUp.objects.filter(
        signal__market=market,
        owner_id=account.owner_id,
        created_at__lte=at,
        created_at__gte=at - FOLLOWS_WITHIN,
    ).order_by("-created_at")[:10]
    return next((h for h in recent if any(x["account_id"] == account.pk for x in h.holdings)), None)


def market_radar(market) -> list[MarketSignal]:
    """The market's latest signals, each with its heads-ups (owner) and the cases that followed
    them: three queries whatever the number of heads-ups or cases."""
    cases = DisputeCase.objects.select_related("account").order_by("created_at")
    heads_ups = HeadsUp.objects.select_related("owner").prefetch_related(Prefetch("cases", queryset=cases))
    return list(
        market.signals.select_related("version", "previous_version")
        .order_by("-detected_at")
        .prefetch_related(Prefetch("heads_ups", queryset=heads_ups))[:SIGNALS_SHOWN]
    )
