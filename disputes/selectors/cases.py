"""Finding dispute cases, and the permission-checked getter of one case."""

import json
import re
from collections import defaultdict

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Expression, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.query import ModelIterable
from django.db.models.sql.where import AND
from django.http import Http404

from disputes.models.cases import DisputeCase, DisputeCaseQuerySet
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
    from disputes.models import EvidenceItem, WalletActivityRow

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
        return found.alias(search_rank=search_rank(query)).order_by(*RANKED)
    return RankedCases.of(cases, query, accounts, markets)


# A word search's order: best match first, then newest.
RANKED = ("search_rank", "-year", "-number")


class RankedCases(DisputeCaseQuerySet):
    """The cases a word search found, best match first: a queryset like any other (filters,
    other orders, counts, values), except that a slice of it in the rank's order (a page of
    the list) is read in two steps. First the page's case ids alone, from the cases of the
    matching accounts and those of the matching markets (UNION ALL of two disjoint halves),
    ranked by their account and market ids: on PostgreSQL an index-only scan each of
    case_account_newest_idx and case_market_newest_idx, so the database sorts tens of thousands
    of index entries rather than as many rows of claim text; then only those cases with their
    account, market and assignee. Its count (the paginator's) is of the same two halves."""

    # (account ids, market ids, the rank as a CASE of them, the filter that finds their cases)
    _matches: tuple | None = None

    @classmethod
    def of(cls, cases: QuerySet, query: str, accounts: list[tuple], markets: list[tuple]) -> "RankedCases":
        """The `cases` (not yet filtered) of these matching accounts and markets, ranked."""
        account_ids, market_ids = [a[0] for a in accounts], [m[0] for m in markets]
        rank = _rank_by_ids(query, accounts, markets)
        found = cases.filter(AmongIds("account_id", account_ids) | AmongIds("market_id", market_ids))
        ranked = cls(model=found.model, query=found.query.chain(), using=found._db)
        ranked._matches = (account_ids, market_ids, rank, found.query.where.children[0])
        return ranked.alias(search_rank=rank).order_by(*RANKED)

    def _clone(self):
        clone = super()._clone()
        clone._matches = self._matches
        return clone

    def count(self) -> int:
        if self._matches is None or self._result_cache is not None or self.query.is_empty():
            return super().count()
        halves = self._halves("pk")
        if halves is None:
            return 0
        return halves[self.query.low_mark : self.query.high_mark].count()

    def _fetch_all(self):
        if self._result_cache is None and self._reads_by_ids():
            halves = self._halves("pk", "search_rank", "year", "number")
            page = (
                [] if halves is None else halves.order_by(*RANKED)[self.query.low_mark : self.query.high_mark]
            )
            ids = [row[0] for row in page]
            cases = DisputeCase.objects.filter(pk__in=ids).order_by()
            cases.query.select_related = self.query.select_related
            by_id = {case.pk: case for case in cases} if ids else {}
            self._result_cache = [by_id[pk] for pk in ids]
        super()._fetch_all()  # prefetches, if any were asked for

    def _reads_by_ids(self) -> bool:
        """A slice of whole cases, in the rank's order: a page of the list."""
        return (
            self._matches is not None
            and self.query.is_sliced
            and self._iterable_class is ModelIterable
            and tuple(self.query.order_by) == RANKED
            and not self.query.is_empty()
            and not self.query.distinct
            and not self.query.deferred_loading[0]
        )

    def _halves(self, *fields: str) -> QuerySet | None:
        """The matching cases, as `fields`, read as the cases of the matching accounts and the
        other cases of the matching markets (or None if nothing matches)."""
        account_ids, market_ids, rank, found = self._matches
        base = DisputeCaseQuerySet(model=self.model, query=self.query.chain(), using=self._db)
        base.query.clear_limits()
        base.query.clear_ordering(force=True)
        base.query.select_related = False
        # Each half names its own ids: without the filter of both (left in, the planner misjudges
        # how many cases it keeps and scans a whole index instead).
        if base.query.where.connector == AND and found in base.query.where.children:
            base.query.where.children.remove(found)
        halves = []
        if account_ids:
            halves.append(base.filter(AmongIds("account_id", account_ids)))
        if market_ids:
            halves.append(
                base.filter(AmongIds("market_id", market_ids)).exclude(AmongIds("account_id", account_ids))
            )
        halves = [half.annotate(search_rank=rank).values_list(*fields) for half in halves]
        if not halves:
            return None
        return halves[0].union(*halves[1:], all=True)


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
            AmongIds("account_id", ranked_accounts[rank]) | AmongIds("market_id", ranked_markets[rank]),
            then=Value(rank),
        )
        for rank in (EXACT, STARTS, WORD_STARTS, EVERY_WORD_STARTS)
        if ranked_accounts[rank] or ranked_markets[rank]
    ]
    if not whens:
        return Value(CONTAINS, output_field=IntegerField())
    return Case(*whens, default=Value(CONTAINS), output_field=IntegerField())


class AmongIds(Expression):
    """`column IN (ids)` with the ids as one parameter (a word search names thousands): an array
    on PostgreSQL (`= ANY`, which its planner reads as it reads an IN list, through an index),
    a JSON list elsewhere. Short SQL, so a page's queries are quick to compose and to plan."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, ids):
        super().__init__()
        self.column, self.ids = F(column), [int(pk) for pk in ids]

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.column)
        return f"{column} IN (SELECT value FROM json_each(%s))", (*params, json.dumps(self.ids))  # noqa: S608 (a column)

    def as_postgresql(self, compiler, connection):
        # The array as its text ('{1,2,3}', of ints): psycopg dumps a list element by element, and
        # Django's client-side binding does it for every occurrence (a broad search names
        # thousands of ids a few times over: ~15 ms of a page).
        column, params = compiler.compile(self.column)
        return f"{column} = ANY(%s::bigint[])", (*params, "{" + ",".join(map(str, self.ids)) + "}")


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


# Up to this many matching accounts or markets (each) are looked up first, ranked here and their
# cases read by their ids (RankedCases); a word that matches more (a quarter of 20,000 accounts
# or markets) reads them as a subquery instead. At 5,000 of each a query names some 35,000 ids,
# within SQLite's 32,766 variables for the ids the two halves repeat (see RankedCases._halves).
MATCHES_LOOKED_UP_FIRST = 5000


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
