"""Case search by words (issue 23): every word of the query in an account's name (any part, any
case), or every word in a market's question, or the account's exact e-mail finds the cases, best
match first, then newest; the accounts and markets are looked up first and their cases read
through the foreign-key indexes, and words matching very many read them as a subquery, with the
same results either way. A reference and a transaction hash are looked up as before, unranked.
On PostgreSQL the words are read through trigram indexes (migration 0013)."""

import pytest
from django.db import connection
from django.urls import reverse

from accounts.tests.factories import make_account, specialist_user
from disputes.selectors import case_list
from disputes.selectors import cases as case_selectors
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import dispute_file
from disputes.services.evidence import evidence_add
from disputes.tests.factories import gamma_market
from portal.tests.pages import form_on, link_to, submit
from portal.tests.plans import query_plan

pytestmark = pytest.mark.django_db

FED_JUNE = "Will the Federal Reserve cut rates at its June 2027 meeting?"
TX = "0x" + "ef" * 32


@pytest.fixture
def book():
    me = specialist_user()
    whale = make_account(owner=me, display_name="Blue Whale Capital", email="desk@bluewhale.test")
    minnow = make_account(owner=me, display_name="Minnow", email="minnow@example.test")
    market = market_upsert_from_gamma(data=gamma_market(), by=me).market

    def file(account, **extra):
        return dispute_file(by=me, account=account, category="order_execution", claim="x", **extra).reference

    return {
        "whale": file(whale),
        "whale_market": file(whale, market=market),
        "minnow": file(minnow),
        "minnow_market": file(minnow, market=market),
        "question": market.question,
    }


def found(query: str) -> set[str]:
    return set(case_list(query=query).values_list("reference", flat=True))


def listed(query: str) -> list[str]:
    return list(case_list(query=query).values_list("reference", flat=True))


@pytest.mark.parametrize("looked_up_first", [1000, 0])
def test_words_find_cases_by_account_name_e_mail_or_market_question(book, monkeypatch, looked_up_first):
    monkeypatch.setattr(case_selectors, "MATCHES_LOOKED_UP_FIRST", looked_up_first)  # 0: the subquery
    assert found("whale") == found("WHALE") == {book["whale"], book["whale_market"]}
    assert found("desk@bluewhale.test") == {book["whale"], book["whale_market"]}
    assert found("bluewhale.test") == set()  # an e-mail matches whole only
    word = book["question"].split()[-1].strip("?")
    assert found(word) >= {book["whale_market"], book["minnow_market"]}
    assert book["minnow"] not in found(word)
    assert found("no such words") == set()


def test_a_word_search_costs_three_queries_at_any_size(book, django_assert_num_queries):
    with django_assert_num_queries(3):  # accounts, markets, then the cases
        list(case_list(query="whale"))
    with django_assert_num_queries(3):  # as many for several words
        list(case_list(query="capital BLUE whale"))


def market(me, question: str, n: int):
    data = gamma_market(id=str(900 + n), conditionId="0x" + f"{n:x}" * 64, slug=f"m-{n}", question=question)
    return market_upsert_from_gamma(data=data, by=me).market


@pytest.fixture
def fed():
    """Cases whose account or market names "Fed" (and "June"), each matching in a different way."""
    me = specialist_user()
    plain = make_account(owner=me, display_name="Plain Trader")

    def file(*, account=plain, market=None):
        category = "market_resolution" if market else "order_execution"
        return dispute_file(by=me, account=account, market=market, category=category, claim="x").reference

    return {
        "fed june market": file(market=market(me, FED_JUNE, 1)),
        "only fed market": file(market=market(me, "Fed chair nominee confirmed by March?", 2)),
        "starts fed june": file(market=market(me, "Fed June meeting: a cut?", 3)),
        "fed june words": file(market=market(me, "Will the Fed June statement say 'patient'?", 4)),
        "exact name": file(account=make_account(owner=me, display_name="FED")),
        "name starts": file(account=make_account(owner=me, display_name="Fedora Trading")),
        "name contains": file(account=make_account(owner=me, display_name="Unfederated Dejune Desk")),
        "june fedorov": file(account=make_account(owner=me, display_name="June Fedorov")),
        "only june name": file(account=make_account(owner=me, display_name="June Smith")),
        # "Fed" in the account's name and "June" in the market's question: the words must all
        # be in one of them.
        "split": file(
            account=make_account(owner=me, display_name="Fed Partners"),
            market=market(me, "Will it rain in June?", 5),
        ),
        "e-mail": file(account=make_account(owner=me, display_name="Quiet", email="Fed.June@Example.test")),
    }


def test_every_word_must_be_in_the_name_or_in_the_question(fed):
    assert found("Fed June") == {
        fed["fed june market"],
        fed["starts fed june"],
        fed["fed june words"],
        fed["name contains"],
        fed["june fedorov"],
    }
    assert found("june   FEDERAL reserve") == {fed["fed june market"]}  # any order, any case
    assert found("Fed June 2028") == set()
    assert found("fed.june@example.TEST") == {fed["e-mail"]}  # the whole e-mail, any case
    assert found("fed.june") == set()
    assert found("Fed June nobody") == set()


@pytest.mark.parametrize("looked_up_first", [1000, 0])
def test_the_best_match_comes_first_then_the_newest(fed, monkeypatch, looked_up_first):
    # 1000: ranked here from the matches' ids; 0: ranked in SQL through the account and market.
    monkeypatch.setattr(case_selectors, "MATCHES_LOOKED_UP_FIRST", looked_up_first)
    assert listed("fed") == [
        fed["exact name"],  # the name is the query
        fed["split"],  # the name or the question starts with it, newest first
        fed["name starts"],
        fed["starts fed june"],
        fed["only fed market"],
        fed["june fedorov"],  # a word starts with it
        fed["fed june words"],
        fed["fed june market"],
        fed["name contains"],  # in part only
    ]
    assert listed("fed june") == [
        fed["starts fed june"],  # the question starts with the query
        fed["fed june words"],  # a word starts with the query
        fed["june fedorov"],  # every word starts a word (newest first)
        fed["fed june market"],
        fed["name contains"],  # every word in part
    ]
    assert listed("fed.june@example.test") == [fed["e-mail"]]


def test_a_reference_and_a_transaction_hash_are_looked_up_as_before(fed, specialist):
    from disputes.models import DisputeCase

    reference = fed["fed june market"]
    assert listed(reference.lower()) == [reference]
    assert listed(reference.replace("DSP-", "DSP-").rsplit("-", 1)[0] + "-999999") == []
    case = DisputeCase.objects.get(reference=fed["only fed market"])
    evidence_add(case=case, by=specialist, kind="transaction", value=TX)
    assert listed(TX.upper().replace("0X", "0x")) == [case.reference]
    assert listed("0x" + "00" * 32) == []
    assert not case_selectors.is_word_search(reference) and not case_selectors.is_word_search(TX)
    assert case_selectors.is_word_search("fed june") and not case_selectors.is_word_search(" ")


def rows(response) -> list[str]:
    return [row.record.reference for row in response.context["table"].page.object_list]


def test_the_case_list_form_searches_by_words_best_match_first(
    client, specialist, fed, django_assert_max_num_queries
):
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_list"))
    form = form_on(page, has_field="q", action="")
    with django_assert_max_num_queries(12) as searched_queries:
        searched = submit(client, form, q="  Fed   June ")
    assert searched.status_code == 200
    assert rows(searched) == listed("fed june")
    with django_assert_max_num_queries(12) as one_word_queries:
        submit(client, form, q="fed")
    assert len(one_word_queries.captured_queries) == len(searched_queries.captured_queries)
    assert rows(submit(client, form, q="nobody at all")) == []
    assert "No cases match." in submit(client, form, q="nobody at all").content.decode()

    # A column chosen from the table's heading orders the results instead of the rank.
    by_reference = client.get(link_to(searched, "Case"))
    assert rows(by_reference) in (sorted(rows(searched)), sorted(rows(searched), reverse=True))
    assert by_reference.context["query"] == "Fed June"


def test_without_words_the_list_keeps_its_default_order(client, specialist, fed):
    client.force_login(specialist)
    default = client.get(reverse("disputes:case_list"))
    assert default.context["table"].order_by == ("-resolution_due",)
    searched = submit(client, form_on(default, has_field="q", action=""), q="fed")
    assert searched.context["table"].order_by == ()


@pytest.mark.parametrize("words", ["Fed June", "ju"])
def test_postgresql_reads_the_words_through_the_search_indexes(fed, words):
    """Through the trigram indexes, or (a word too short for them, or the planner's call for a
    test's handful of rows) the narrow indexes read whole; never the tables themselves."""
    if connection.vendor != "postgresql":
        pytest.skip("The search indexes are PostgreSQL's (SQLite reads its two small tables with LIKE)")
    looked_up = case_selectors.MATCHES_LOOKED_UP_FIRST + 1  # as the selector reads them
    accounts = query_plan(
        case_selectors.matching_accounts(words).values_list("pk", "display_name", "email")[:looked_up]
    )
    markets = query_plan(case_selectors.matching_markets(words).values_list("pk", "question")[:looked_up])
    if len(words) < 3:
        # (index-only once the table is vacuumed, as measured at 20,000 accounts and markets)
        assert "account_name_scan_idx" in accounts, accounts
        assert "market_question_scan_idx" in markets, markets
    else:
        assert "account_name_trgm_idx" in accounts or "account_name_scan_idx" in accounts, accounts
        assert "market_question_trgm_idx" in markets or "market_question_scan_idx" in markets, markets
    assert "Seq Scan" not in accounts + markets


# A page of a word search reads its case ids alone first (from the accounts' and the markets'
# cases, ranked by their ids), then only those cases (issue 23, "ten times the book").


@pytest.mark.parametrize("looked_up_first", [1000, 0])
def test_a_word_search_pages_through_its_cases_best_match_first(
    client, specialist, fed, monkeypatch, looked_up_first
):
    monkeypatch.setattr(case_selectors, "MATCHES_LOOKED_UP_FIRST", looked_up_first)
    client.force_login(specialist)
    ranked = listed("fed")
    page = client.get(reverse("disputes:case_list"), {"q": "fed", "per_page": 4})
    assert page.context["table"].paginator.count == len(ranked) == 9
    assert "1–4 of 9" in page.content.decode()
    pages = [rows(page)]
    while 'rel="next"' in page.content.decode():
        page = client.get(link_to(page, "Next"))
        pages.append(rows(page))
    assert pages == [ranked[:4], ranked[4:8], ranked[8:]]
    past_the_end = client.get(reverse("disputes:case_list"), {"q": "fed", "per_page": 4, "page": 99})
    assert rows(past_the_end) == ranked[8:]
    # A column chosen from the heading still orders the results instead of the rank, page by page.
    by_reference = client.get(reverse("disputes:case_list"), {"q": "fed", "per_page": 4, "sort": "reference"})
    second = client.get(link_to(by_reference, "Next"))
    assert rows(by_reference) + rows(second) == sorted(ranked)[:8]


def test_a_page_reads_the_ids_first_then_only_its_cases(fed, django_assert_num_queries):
    ranked = listed("fed")
    with django_assert_num_queries(4) as queries:  # accounts, markets, the page's ids, its cases
        page = case_list(query="fed")[2:6]
        assert [case.reference for case in page] == ranked[2:6]
        assert page[0].account.display_name and page[0].assignee_id is None  # joined, no more queries
    ids, cases = (query["sql"] for query in queries.captured_queries[2:])
    assert "JOIN" not in ids and "claim" not in ids  # narrow: no case's row, no account or market
    assert "claim" in cases and cases.count("JOIN") == 3
    words = case_list(query="fed")
    with django_assert_num_queries(2):  # the paginator's count: of the same ids, one query
        assert words[:10_001].count() == 9
        assert words[5:].count() == 4


def test_a_page_of_a_filtered_word_search_is_the_same_as_the_whole_list(fed):
    words = case_list(query="fed").filter(category="market_resolution")
    whole = list(words.values_list("reference", flat=True))
    assert len(whole) == 5 and whole == [ref for ref in listed("fed") if ref in whole]
    assert [case.reference for case in words[1:4]] == whole[1:4]
    assert words[:100].count() == 5
    assert [case.reference for case in words.order_by("reference")[:3]] == sorted(whole)[:3]
    assert list(case_list(query="fed").none()[:3]) == [] and case_list(query="nobody")[:3].count() == 0


def test_a_word_search_costs_as_many_queries_however_many_cases_it_finds(
    client, specialist, fed, django_assert_max_num_queries
):
    client.force_login(specialist)
    counts = []
    for params in (
        {"q": "fed"},
        {"q": "fed", "page": 2, "per_page": 3},
        {"q": "fed", "per_page": 200},
        {"q": "Quiet"},
    ):
        with django_assert_max_num_queries(12) as queries:
            assert client.get(reverse("disputes:case_list"), params).status_code == 200
        counts.append(len(queries.captured_queries))
    assert len(set(counts)) == 1, counts


def test_the_csv_export_of_a_word_search_has_every_case_found(client, specialist, fed):
    client.force_login(specialist)
    response = client.get(reverse("disputes:case_list"), {"q": "fed", "export": "csv", "per_page": 2})
    body = b"".join(response.streaming_content).decode()
    assert {line.split(",")[0] for line in body.splitlines()[1:]} == found("fed")


def _page_of_ids_plan(query: str) -> str:
    """The plan of a word search's first page of case ids, as RankedCases reads it."""
    words = case_list(query=query)
    return query_plan(
        words._halves("pk", "search_rank", "year", "number").order_by(*case_selectors.RANKED)[:25]
    )


def test_postgresql_reads_a_word_searchs_page_of_ids_from_the_case_indexes_alone(fed):
    if connection.vendor != "postgresql":
        pytest.skip("A PostgreSQL plan (SQLite's case tables are small)")
    plan = _page_of_ids_plan("fed")
    # Each half through an index on its own ids. Which one (the covering case_*_newest_idx, an
    # index-only scan once the table is vacuumed, as measured at 500,000 cases, or the plain
    # foreign-key index) the planner picks for a test's handful of fresh rows is its call.
    assert "Index Cond: (account_id = ANY" in plan and "Index Cond: (market_id = ANY" in plan, plan
    assert "Join" not in plan and "Nested Loop" not in plan and "Seq Scan" not in plan, plan


def test_sqlite_reads_a_word_searchs_page_of_ids_from_the_covering_case_indexes(fed):
    if connection.vendor != "sqlite":
        pytest.skip("A SQLite plan (PostgreSQL's is the test above)")
    plan = _page_of_ids_plan("fed")
    # SQLite has no INCLUDE: the other half's id must be a key column for the index to cover the
    # rank (reading each matching case's row made q=ju 212 ms at 500,000 cases).
    assert "COVERING INDEX case_account_newest_idx" in plan, plan
    assert "COVERING INDEX case_market_newest_idx" in plan, plan
