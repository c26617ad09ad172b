"""How pages show people, money and moments: names not usernames, amounts with their currency and
thousands separators, CSV times in UTC to the second with the zone named."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from portal.csv_export import spreadsheet_safe
from portal.templatetags.portal_tags import external_link, money, person


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("25000"), "USDC", "25,000.00 USDC"),
        (Decimal("14836.2"), "USD", "14,836.20 USD"),
        ("1234567.891", "USDC", "1,234,567.89 USDC"),
        (Decimal("0"), "USDC", "0.00 USDC"),
        (None, "USDC", "—"),
        ("not a number", "USDC", "not a number"),
    ],
)
def test_money_names_the_currency_and_separates_thousands(amount, currency, shown):
    assert money(amount, currency) == shown


def test_a_person_is_their_full_name_or_else_their_username():
    User = get_user_model()
    assert person(User(username="kemi", first_name="Kemi", last_name="Eriksen")) == "Kemi Eriksen"
    assert person(User(username="kemi")) == "kemi"
    assert person(None) == ""


def test_an_external_link_only_when_there_is_an_address():
    assert external_link("", "Withdrawal <stuck>") == "Withdrawal &lt;stuck&gt;"
    assert external_link("https://x.test/1", "Stuck") == (
        '<a href="https://x.test/1" rel="noopener noreferrer" target="_blank">Stuck</a>'
    )


def test_csv_moments_are_utc_to_the_second_with_the_zone_named():
    moment = dt.datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=ZoneInfo("America/New_York"))
    assert spreadsheet_safe(moment) == "2026-12-04T14:30:15Z"
    assert spreadsheet_safe(dt.date(2026, 12, 4)) == "2026-12-04"
    assert spreadsheet_safe("=SUM(A1)") == "'=SUM(A1)"
