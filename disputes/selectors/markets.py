"""Markets and their rule versions."""

import datetime as dt
import re

from django.db.models import Q, QuerySet

from disputes.models import (
    Market,
    MarketRuleVersion,
)
from disputes.selectors.roles import MARKET_WRITERS, RULE_READERS
from portal.models import User
from portal.selectors import object_get_for_user

CONDITION_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
URL_SLUG = re.compile(r"polymarket\.com/(?:event|market)/([^/?#]+)(?:/([^/?#]+))?")


def market_list(*, query: str = "") -> QuerySet[Market]:
    """Markets, searchable by question, slug, Gamma id, condition id or Polymarket URL."""
    markets = Market.objects.all()
    query = (query or "").strip()
    if not query:
        return markets
    if CONDITION_ID.match(query):
        return markets.filter(condition_id=query.lower())
    if query.isdigit():
        return markets.filter(gamma_id=query)
    url = URL_SLUG.search(query)
    if url:
        slug = url.group(2) or url.group(1)
        return markets.filter(Q(slug=slug) | Q(event_slug=url.group(1)))
    return markets.filter(Q(question__icontains=query) | Q(slug=query) | Q(event_slug=query))


def market_get_for_user(*, user: User, pk, to_change: bool = False) -> Market:
    return object_get_for_user(
        Market.objects.select_related("current_version"),
        user=user,
        roles=MARKET_WRITERS if to_change else RULE_READERS,
        denied="Your role does not include markets and rules.",
        missing="No such market.",
        pk=pk,
    )


def rule_versions(market: Market) -> list[MarketRuleVersion]:
    return list(market.rule_versions.select_related("recorded_by").order_by("-number"))


def rules_at(market: Market, when: dt.datetime) -> MarketRuleVersion | None:
    """The version in force at `when`: the newest one that had taken effect by then."""
    return market.rule_versions.filter(effective_at__lte=when).order_by("-effective_at", "-number").first()
