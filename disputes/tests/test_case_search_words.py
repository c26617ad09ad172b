"""Case search by words (issue 23): an account's name (any part, any case), its exact e-mail, or
a market's question (any part) finds the cases; the accounts and markets are looked up first and
their cases read through the foreign-key indexes, and a word matching very many reads them as a
subquery, with the same results either way."""

import pytest

from accounts.tests.factories import make_account, specialist_user
from disputes.selectors import case_list
from disputes.selectors import cases as case_selectors
from disputes.services import market_upsert_from_gamma
from disputes.services.cases import dispute_file
from disputes.tests.factories import gamma_market

pytestmark = pytest.mark.django_db


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
