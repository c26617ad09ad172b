"""Which account a conversation belongs to: the contact's external id, else its e-mail."""

import pytest

from accounts.tests.factories import make_account
from support.services import _account_for

pytestmark = pytest.mark.django_db


def fields(external_id: str = "", email: str = "") -> dict:
    return {"contact_external_id": external_id, "contact_email": email}


def test_the_external_id_wins_over_another_accounts_email():
    by_email = make_account(email="ann@example.com")
    by_external_id = make_account(external_id="ext-2", email="other@example.com")
    assert _account_for(fields("ext-2", "ann@example.com")).pk == by_external_id.pk
    assert _account_for(fields("ext-unknown", "ann@example.com")).pk == by_email.pk


def test_the_email_is_compared_without_case():
    account = make_account(email="Ann.Lee@Example.com")
    assert _account_for(fields(email="ann.lee@EXAMPLE.COM")).pk == account.pk


def test_no_match_and_no_identity_are_none(django_assert_num_queries):
    make_account(external_id="ext-1", email="ann@example.com")
    with django_assert_num_queries(1):  # external id or e-mail, in one query
        assert _account_for(fields("ext-9", "bob@example.com")) is None
    with django_assert_num_queries(0):
        assert _account_for(fields()) is None
