"""Header search: each app registers a provider that knows how to find its objects.

A provider answers a free-text query with results the user may see. When exactly one result
across all providers is an exact match (an e-mail, a case reference, a wallet address), the
search page opens it directly.
"""

from dataclasses import dataclass, field
from typing import Protocol

from portal.roles import has_role

MAX_QUERY_LENGTH = 200
RESULTS_PER_PROVIDER = 20


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    detail: str = ""
    exact: bool = False


class SearchProvider(Protocol):
    key: str
    label: str  # a plural noun shown as the heading of its results: "Accounts"
    hint: str  # what it matches on: "e-mail, wallet address or Intercom id"
    roles: tuple[str, ...]

    def search(self, *, user, query: str, limit: int) -> list[SearchResult]: ...


@dataclass
class SearchOutcome:
    query: str
    groups: list[tuple[SearchProvider, list[SearchResult]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(results) for _, results in self.groups)

    @property
    def only_exact_match(self) -> SearchResult | None:
        exact = [r for _, results in self.groups for r in results if r.exact]
        return exact[0] if len(exact) == 1 else None


_providers: dict[str, SearchProvider] = {}


def register_search_provider(provider: SearchProvider) -> None:
    _providers[provider.key] = provider


def unregister_search_provider(key: str) -> None:
    _providers.pop(key, None)


def providers_for(user) -> list[SearchProvider]:
    return [p for p in _providers.values() if has_role(user, *p.roles)]


def normalise_query(raw: str | None) -> str:
    """Collapse whitespace and drop NUL characters (PostgreSQL refuses them in text)."""
    return " ".join((raw or "").replace("\x00", "").split())[:MAX_QUERY_LENGTH]


def search_everything(*, user, query: str) -> SearchOutcome:
    """Ask every provider the user may use; empty groups are left out."""
    outcome = SearchOutcome(query=query)
    if not query:
        return outcome
    for provider in providers_for(user):
        results = provider.search(user=user, query=query, limit=RESULTS_PER_PROVIDER)
        if results:
            outcome.groups.append((provider, results))
    return outcome
