"""How markets and the rulebook plug into the portal: navigation and header search."""

from django.urls import reverse

from disputes import selectors
from portal.navigation import NavItem, register_nav_item
from portal.search import SearchResult, register_search_provider

register_nav_item(
    NavItem(label="Markets", url_name="disputes:market_list", roles=selectors.RULE_READERS, order=20)
)
register_nav_item(
    NavItem(label="Rulebook", url_name="disputes:rulebook", roles=selectors.RULE_READERS, order=25)
)


class MarketSearch:
    key = "markets"
    label = "Markets"
    hint = "Polymarket link, slug, Gamma id or condition id"
    roles = selectors.RULE_READERS

    def search(self, *, user, query, limit):
        q = query.strip()
        exact_lookup = bool(selectors.CONDITION_ID.match(q) or q.isdigit() or selectors.URL_SLUG.search(q))
        if len(q) < 3 and not q.isdigit():
            return []
        matches = list(selectors.market_list(query=q).order_by("-end_date")[:limit])
        exact = exact_lookup and len(matches) == 1
        return [
            SearchResult(
                title=m.question,
                url=reverse("disputes:market_detail", args=[m.pk]),
                detail=f"{m.get_venue_display()} · {m.slug or 'entered by hand'}",
                exact=exact or m.slug == q,
            )
            for m in matches
        ]


register_search_provider(MarketSearch())


class CaseSearch:
    key = "cases"
    label = "Dispute cases"
    hint = "reference (DSP-…)"
    roles = selectors.RULE_READERS

    def search(self, *, user, query, limit):
        if not selectors.CASE_REFERENCE.match(query.strip()):
            return []
        return [
            SearchResult(
                title=f"{case.reference} · {case.account.display_name}",
                url=reverse("disputes:case_detail", args=[case.reference]),
                detail=case.get_status_display(),
                exact=True,
            )
            for case in selectors.case_list(query=query)[:limit]
        ]


register_search_provider(CaseSearch())
