from reports.metrics.base import Totals

ROWS = [
    {"current": 1, "venue": "polymarket", "outcome": None, "n": 3},
    {"current": 1, "venue": "kalshi", "outcome": "upheld", "n": 2},
    {"current": 0, "venue": "polymarket", "outcome": "upheld", "n": 5},
    {"current": 1, "n": 0, "week_0": 4},  # a weekly row: no dimensions
    {"current": 1, "n": 0, "week_1": 1},
]


def test_totals_sum_the_rows_matching_every_dimension():
    totals = Totals(ROWS)

    assert totals(current=1) == 5
    assert totals(current=0) == 5
    assert totals(current=1, venue="polymarket") == 3
    assert totals(current=1, venue="polymarket", outcome=None) == 3
    assert totals(current=0, venue="polymarket", outcome="upheld") == 5
    assert totals(current=1, venue="nowhere") == 0


def test_totals_of_a_key_only_some_rows_have():
    totals = Totals(ROWS)

    assert totals("week_0", current=1) == 4
    assert totals("week_1", current=1) == 1
    assert totals("week_0", current=0) == 0
    # weekly rows have no venue: they match no value of it, None included
    assert totals("week_0", current=1, venue=None) == 0


def test_totals_answer_the_same_when_asked_again():
    totals = Totals(ROWS)

    first = [totals(current=c, venue=v) for c in (0, 1) for v in ("polymarket", "kalshi")]
    again = [totals(current=c, venue=v) for c in (0, 1) for v in ("polymarket", "kalshi")]

    assert first == again == [5, 0, 3, 2]
