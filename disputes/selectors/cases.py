"""Finding dispute cases, and the permission-checked getter of one case."""

import re
from collections import defaultdict

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
    accounts = list(
        matching_accounts(query).values_list("pk", "display_name", "email")[: MATCHES_LOOKED_UP_FIRST + 1]
    )
    markets = list(matching_markets(query).values_list("pk", "question")[: MATCHES_LOOKED_UP_FIRST + 1])
    if len(accounts) > MATCHES_LOOKED_UP_FIRST or len(markets) > MATCHES_LOOKED_UP_FIRST:
        # Too many to list: the cases of every match, ranked through their account and market.
        found = cases.filter(
            Q(account_id__in=matching_accounts(query).values("pk"))
            | Q(market_id__in=matching_markets(query).values("pk"))
        )
        return found.alias(search_rank=search_rank(query)).order_by("search_rank", "-year", "-number")
    found = cases.filter(
        Q(account_id__in=[a[0] for a in accounts]) | Q(market_id__in=[m[0] for m in markets])
    )
    rank = _rank_by_ids(query, accounts, markets)
    return found.alias(search_rank=rank).order_by("search_rank", "-year", "-number")


def _rank_by_ids(query: str, accounts: list[tuple], markets: list[tuple]) -> Case:
    """`search_rank` for a few matches, each ranked here once: the cases are then ordered by
    their own account and market ids, so the database sorts the matching cases alone and joins
    only the page it shows to their accounts and markets."""
    ranked_accounts, ranked_markets = defaultdict(list), defaultdict(list)
    for pk, name, email in accounts:
        ranked_accounts[
            min(text_rank(query, name), EXACT if email.upper() == query.upper() else CONTAINS)
        ].append(pk)
    for pk, question in markets:
        ranked_markets[text_rank(query, question)].append(pk)
    whens = [
        When(
            Q(account_id__in=ranked_accounts[rank]) | Q(market_id__in=ranked_markets[rank]), then=Value(rank)
        )
        for rank in (EXACT, STARTS, WORD_STARTS, EVERY_WORD_STARTS)
        if ranked_accounts[rank] or ranked_markets[rank]
    ]
    if not whens:
        return Value(CONTAINS, output_field=IntegerField())
    return Case(*whens, default=Value(CONTAINS), output_field=IntegerField())


def text_rank(query: str, text: str) -> int:
    """How well a name or question matches the query, as `search_rank` ranks it in SQL (which
    compares UPPER of both: the same for the ASCII words people search by)."""
    query, text = query.upper(), text.upper()
    if text == query:
        return EXACT
    if text.startswith(query):
        return STARTS
    if f" {query}" in text:
        return WORD_STARTS
    if all(text.startswith(word) or f" {word}" in text for word in query.split()):
        return EVERY_WORD_STARTS
    return CONTAINS


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
