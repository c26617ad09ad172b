"""Finding dispute cases, and the permission-checked getter of one case."""

import re

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from disputes.selectors.roles import RULE_READERS
from portal.models import User
from portal.roles import has_role

TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
CASE_REFERENCE = re.compile(r"^DSP-\d{4}-\d+$", re.IGNORECASE)


def case_list(*, query: str = "") -> QuerySet:
    """Cases with account, market and assignee joined; searchable by reference, account name or
    e-mail, market question, and a transaction hash found in the evidence or a wallet snapshot.

    Words (anything but a reference or a hash) find the cases whose account name holds every word,
    or whose market question holds every word (each in part, any case), or whose account e-mail is
    the whole query; best match first (see `search_rank`), then newest. On PostgreSQL the words
    are looked up through trigram indexes on UPPER(name) and UPPER(question), the expressions
    Django's `icontains` compares (migration 0013); SQLite's equivalent is the same LIKE over the
    two small tables (accounts and markets, a twenty-fifth of the cases), so both databases give
    the same cases in the same order for ASCII words."""
    from disputes.models import DisputeCase, EvidenceItem, WalletActivityRow

    cases = DisputeCase.objects.select_related("account", "market", "assignee")
    query = (query or "").strip()
    if not query:
        return cases
    if CASE_REFERENCE.match(query):
        try:
            year, number = reference_parts(query)
        except Http404:
            return cases.none()
        return cases.filter(year=year, number=number)
    if TX_HASH.match(query):
        tx_hash = query.lower()
        in_evidence = EvidenceItem.objects.filter(kind="transaction", value=tx_hash).values("case_id")
        in_snapshots = WalletActivityRow.objects.filter(transaction_hash=tx_hash).values("case_id")
        return cases.filter(Q(pk__in=in_evidence) | Q(pk__in=in_snapshots))
    # Words: the accounts and markets they name first (two small tables), then those cases.
    accounts, markets = matching_accounts(query), matching_markets(query)
    found = cases.filter(Q(account_id__in=_ids(accounts)) | Q(market_id__in=_ids(markets)))
    return found.alias(search_rank=search_rank(query)).order_by("search_rank", "-year", "-number")


def is_word_search(query: str) -> bool:
    """Whether case_list(query=...) searches by words, and so orders its cases best match first."""
    query = (query or "").strip()
    return bool(query) and not CASE_REFERENCE.match(query) and not TX_HASH.match(query)


def matching_accounts(query: str) -> QuerySet:
    """The accounts whose name holds every word of the query, or whose e-mail is the query."""
    from accounts.models import Account

    return Account.objects.filter(
        _every_word("display_name", query.split()) | Q(email__iexact=query)
    ).order_by()  # only their ids are wanted: no sort, and no walk of the name index


def matching_markets(query: str) -> QuerySet:
    """The markets whose question holds every word of the query."""
    from disputes.models import Market

    return Market.objects.filter(_every_word("question", query.split())).order_by()  # ids only


def _every_word(field: str, words: list[str]) -> Q:
    condition = Q()
    for word in words:
        condition &= Q(**{f"{field}__icontains": word})
    return condition


# How well a case's account or market matches the words, best (lowest) first.
EXACT, STARTS, WORD_STARTS, EVERY_WORD_STARTS, CONTAINS = range(5)


def search_rank(query: str) -> Case:
    """A case's rank for a word search, portable (the same CASE on SQLite and PostgreSQL):
    the account name or e-mail, or the market question, is the query (0); the name or question
    starts with it (1); a word of them starts with it (2); every word of the query starts a word
    of the name or of the question (3); anything else found contains every word in part (4)."""
    words = query.split()
    name, question = "account__display_name", "market__question"

    def each_starts_a_word(field: str) -> Q:
        condition = Q()
        for word in words:
            condition &= Q(**{f"{field}__istartswith": word}) | Q(**{f"{field}__icontains": f" {word}"})
        return condition

    return Case(
        When(
            Q(**{f"{name}__iexact": query})
            | Q(account__email__iexact=query)
            | Q(**{f"{question}__iexact": query}),
            then=Value(EXACT),
        ),
        When(
            Q(**{f"{name}__istartswith": query}) | Q(**{f"{question}__istartswith": query}),
            then=Value(STARTS),
        ),
        When(
            Q(**{f"{name}__icontains": f" {query}"}) | Q(**{f"{question}__icontains": f" {query}"}),
            then=Value(WORD_STARTS),
        ),
        When(each_starts_a_word(name) | each_starts_a_word(question), then=Value(EVERY_WORD_STARTS)),
        default=Value(CONTAINS),
        output_field=IntegerField(),
    )


# Up to this many matching accounts or markets are looked up first and their cases read through
# the foreign-key indexes; a word that matches more reads them as a subquery instead.
MATCHES_LOOKED_UP_FIRST = 1000


def _ids(matching: QuerySet):
    """The matching rows' ids as a list when there are few (so the case query uses the account
    and market indexes instead of joining every case), else as a subquery."""
    ids = list(matching.values_list("pk", flat=True)[: MATCHES_LOOKED_UP_FIRST + 1])
    return ids if len(ids) <= MATCHES_LOOKED_UP_FIRST else matching.values("pk")


def case_get_for_user(*, user: User, reference: str):
    from disputes.models import DisputeCase

    if not has_role(user, *RULE_READERS):
        raise PermissionDenied("Your role does not include dispute cases.")
    year, number = reference_parts(reference)
    try:
        return DisputeCase.objects.select_related(
            "account__tier",
            "account__owner",
            "market__current_version",
            "rule_version",
            "assignee",
            "filed_by",
            "heads_up__signal",
            "heads_up__owner",
        ).get(year=year, number=number)
    except DisputeCase.DoesNotExist:
        raise Http404("No such case.") from None


def reference_parts(reference: str) -> tuple[int, int]:
    """(year, number) of "DSP-2026-00042" in any case and padding, through the unique index
    rather than a case-insensitive scan; 404 for anything else."""
    match = re.fullmatch(r"DSP-(\d{4})-(\d{1,9})", (reference or "").strip(), flags=re.IGNORECASE)
    if not match:
        raise Http404("No such case.")
    return int(match.group(1)), int(match.group(2))
