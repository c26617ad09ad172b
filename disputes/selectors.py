import datetime as dt
import re

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from disputes.models import Market, MarketRuleVersion, RulebookSection, RulebookSectionVersion
from portal.models import User
from portal.roles import Role, has_role

# Who works with markets and the rulebook. Product reads playbooks, not case material.
RULE_READERS = (Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN)
MARKET_WRITERS = (Role.SPECIALIST, Role.ADMIN)
RULEBOOK_EDITORS = (Role.ADMIN,)

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


def market_get_for_user(*, user: User, pk, for_update: bool = False) -> Market:
    if not has_role(user, *(MARKET_WRITERS if for_update else RULE_READERS)):
        raise PermissionDenied("Your role does not include markets and rules.")
    try:
        return Market.objects.select_related("current_version").get(pk=int(pk))
    except (Market.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such market.") from None


def rule_versions(market: Market) -> list[MarketRuleVersion]:
    return list(market.rule_versions.select_related("recorded_by").order_by("-number"))


def rules_at(market: Market, when: dt.datetime) -> MarketRuleVersion | None:
    """The version in force at `when`: the newest one that had taken effect by then."""
    return market.rule_versions.filter(effective_at__lte=when).order_by("-effective_at", "-number").first()


def rulebook(*, venue: str | None = None) -> QuerySet[RulebookSection]:
    sections = RulebookSection.objects.select_related("current_version")
    return sections.filter(venue=venue) if venue else sections


def rulebook_section_get(*, user: User, pk, for_update: bool = False) -> RulebookSection:
    if not has_role(user, *(RULEBOOK_EDITORS if for_update else RULE_READERS)):
        raise PermissionDenied("Your role does not include the rulebook.")
    try:
        return RulebookSection.objects.select_related("current_version").get(pk=int(pk))
    except (RulebookSection.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such rulebook section.") from None


def rulebook_section_at(section: RulebookSection, day: dt.date) -> RulebookSectionVersion | None:
    return section.versions.filter(effective_from__lte=day).order_by("-effective_from", "-number").first()


TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
CASE_REFERENCE = re.compile(r"^DSP-\d{4}-\d+$", re.IGNORECASE)


def case_list(*, query: str = "") -> QuerySet:
    """Cases with account, market and assignee joined; searchable by reference, account name,
    market question (a transaction hash joins in with the evidence step)."""
    from disputes.models import DisputeCase

    cases = DisputeCase.objects.select_related("account", "market", "assignee")
    query = (query or "").strip()
    if not query:
        return cases
    if CASE_REFERENCE.match(query):
        return cases.filter(reference__iexact=query)
    return cases.filter(
        Q(account__display_name__icontains=query)
        | Q(market__question__icontains=query)
        | Q(account__email__iexact=query)
    )


def case_get_for_user(*, user: User, reference: str):
    from disputes.models import DisputeCase

    if not has_role(user, *RULE_READERS):
        raise PermissionDenied("Your role does not include dispute cases.")
    try:
        return DisputeCase.objects.select_related(
            "account__tier",
            "account__owner",
            "market__current_version",
            "rule_version",
            "assignee",
            "filed_by",
        ).get(reference__iexact=reference)
    except DisputeCase.DoesNotExist:
        raise Http404("No such case.") from None
