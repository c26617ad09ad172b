"""Names of tiers and people, read once per report."""

import pytest

from accounts.tests.factories import make_account, specialist_user
from reports.metrics.dimensions import names_kept, people_names, tier_names

pytestmark = pytest.mark.django_db


def test_names_are_read_once_per_report(django_assert_num_queries):
    ann, bob = (
        specialist_user(username="ann", first_name="Ann", last_name="Lee"),
        specialist_user(username="bob", first_name="", last_name=""),
    )
    make_account(owner=ann)  # a tier to name

    with names_kept():
        with django_assert_num_queries(2):
            tiers = tier_names()
            assert people_names({ann.pk, None}) == {ann.pk: "Ann Lee"}
        with django_assert_num_queries(1):  # only the person not yet read
            assert tier_names() == tiers
            assert people_names({ann.pk, bob.pk, 999999}) == {ann.pk: "Ann Lee", bob.pk: "bob"}
        with django_assert_num_queries(0):  # nobody new, the unknown id included
            assert people_names({bob.pk, 999999}) == {bob.pk: "bob"}
    assert tiers


def test_outside_a_report_names_are_read_each_time(django_assert_num_queries):
    ann = specialist_user(username="ann", first_name="", last_name="")
    people_names({ann.pk})
    with django_assert_num_queries(1):
        assert people_names({ann.pk}) == {ann.pk: "ann"}
