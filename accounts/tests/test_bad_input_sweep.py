"""A sweep of bad input over the portfolio pages, as a signed-in person can send it.

The promise: bad input gets a clear message on the form (a 400 re-rendering it) or another 4xx,
never a 500, and never a half-written change. Every request goes through the test client with
`raise_request_exception = False`, so a crash shows up as a 500 instead of an exception.

Every case here once found a real defect or guards against one; the bugs it found are fixed.
"""

import csv
import io
from urllib.parse import urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account, AccountEvent, AccountImport, CheckIn, HealthSnapshot, Wallet
from accounts.tests.factories import make_account, make_check_in, specialist_user
from integrations.models import SyncJob
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # valid EIP-55
WALLET_2 = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"  # valid EIP-55
WALLET_3 = "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"  # lowercase
HUGE_ID = "99999999999999999999"  # beyond a 64-bit integer
BIG_ID = "9223372036854775808"  # 2**63, one past the largest bigint


# --- helpers ---------------------------------------------------------------------------------


ACCOUNT_FIELDS = [
    f.attname for f in Account._meta.concrete_fields if f.name != "wallets_refresh_requested_at"
]


def db_state() -> dict:
    """Everything a portfolio page can write, in full: any write changes it."""
    return {
        # Not the claim of a queued wallet refresh: any render of the account page may set it.
        "accounts": list(Account.objects.order_by("pk").values(*ACCOUNT_FIELDS)),
        "check_ins": list(CheckIn.objects.order_by("pk").values()),
        "wallets": list(Wallet.objects.order_by("pk").values()),
        "events": list(AccountEvent.objects.order_by("pk").values()),
        "sync_jobs": list(SyncJob.objects.order_by("pk").values()),
        "health": HealthSnapshot.objects.count(),
        "imports": AccountImport.objects.count(),
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def error_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def is_client_error(response) -> bool:
    return 400 <= response.status_code < 500


def form_errors(response, name: str = "form") -> dict:
    form = response.context[name]
    return {field: list(errors) for field, errors in form.errors.items()}


def assert_rejected_on_form(response, name: str = "form") -> dict:
    """A 400 that re-renders the form with at least one message."""
    assert response.status_code == 400, response.status_code
    errors = form_errors(response, name)
    assert errors, "a 400 without a message on the form"
    return errors


def assert_on_site(response) -> None:
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "testserver"), location
    assert parts.scheme in ("", "http", "https"), location
    assert not location.startswith(("//", "/\\", "\\")), location


def account_post_data(person, **overrides) -> dict:
    from accounts.tests.factories import tier

    data = {
        "display_name": "Ada Trader",
        "email": "ada@example.com",
        "external_id": "ada-1",
        "intercom_contact_id": "",
        "venue": "international",
        "tier": str(tier(1).pk),
        "owner": str(person.pk),
        "status": "active",
        "cadence_override_days": "",
        "time_zone": "UTC",
        "preferred_channel": "intercom",
        "volume_30d_usd": "1000",
        "volume_prior_30d_usd": "900",
        "notes": "",
        "wallets": "",
    }
    data.update(overrides)
    return data


def edit_post_data(account, **overrides) -> dict:
    data = {
        "display_name": account.display_name,
        "email": account.email,
        "external_id": account.external_id,
        "intercom_contact_id": account.intercom_contact_id,
        "venue": account.venue,
        "tier": str(account.tier_id),
        "owner": str(account.owner_id),
        "status": account.status,
        "cadence_override_days": account.cadence_override_days or "",
        "time_zone": account.time_zone,
        "preferred_channel": account.preferred_channel,
        "volume_30d_usd": str(account.volume_30d_usd),
        "volume_prior_30d_usd": str(account.volume_prior_30d_usd),
        "notes": account.notes,
    }
    data.update(overrides)
    return data


def check_in_post_data(**overrides) -> dict:
    data = {
        "occurred_at": "2024-03-01T10:00",
        "kind": "scheduled",
        "channel": "intercom",
        "sentiment": "neutral",
        "summary": "Talked about fees.",
        "follow_up": "",
        "follow_up_due": "",
    }
    data.update(overrides)
    return data


def csv_file(rows: list[list[str]], name: str = "book.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


HEADER = ["display_name", "email", "external_id", "tier", "owner"]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def web(client, specialist):
    """The test client, signed in as a Specialist, showing a crash as a 500."""
    client.force_login(specialist)
    client.raise_request_exception = False
    return client


@pytest.fixture
def colleague(db):
    return specialist_user(username="colleague")


@pytest.fixture
def account(specialist):
    return make_account(owner=specialist, display_name="Mine", email="mine@example.com", wallets=[WALLET])


@pytest.fixture
def other_account(colleague):
    return make_account(
        owner=colleague, display_name="Theirs", email="theirs@example.com", wallets=[WALLET_2]
    )


@pytest.fixture
def check_in(account):
    return make_check_in(account, days_ago=2, follow_up="Send the fee schedule")


@pytest.fixture
def plain_check_in(account):
    """A check-in without a follow-up."""
    return make_check_in(account, days_ago=3)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- ids in URLs -----------------------------------------------------------------------------

BAD_IDS = [HUGE_ID, BIG_ID, "0", "abc", "-1", "1.5", "1e3", "%20", "١"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("get", "/accounts/{}/"),
        ("get", "/accounts/{}/edit/"),
        ("post", "/accounts/{}/edit/"),
        ("post", "/accounts/{}/check-ins/"),
        ("post", "/accounts/{}/snooze/"),
        ("post", "/accounts/{}/wallets/"),
        ("get", "/accounts/check-ins/{}/edit/"),
        ("post", "/accounts/check-ins/{}/edit/"),
        ("post", "/accounts/check-ins/{}/delete/"),
        ("post", "/accounts/check-ins/{}/follow-up-done/"),
        ("get", "/accounts/import/{}/"),
    ],
)
def test_a_bad_id_in_the_url_is_a_404(web, account, method, template, bad):
    before = db_state()
    response = getattr(web, method)(
        template.format(bad), {"days": "3", "reason": "x"} if method == "post" else {}
    )
    assert response.status_code == 404
    assert db_state() == before


@pytest.mark.parametrize("bad", [HUGE_ID, BIG_ID, "0", "abc", "-1"])
def test_a_bad_wallet_id_is_a_404(web, account, bad):
    wallet = account.wallets.get()
    before = db_state()
    assert web.post(f"/accounts/{account.pk}/wallets/{bad}/remove/").status_code == 404
    assert web.post(f"/accounts/{bad}/wallets/{wallet.pk}/remove/").status_code == 404
    assert db_state() == before


# --- wrong HTTP methods ----------------------------------------------------------------------


POST_ONLY = [
    "accounts:check_in_new",
    "accounts:snooze",
    "accounts:wallet_new",
    "accounts:wallet_remove",
    "accounts:check_in_delete",
    "accounts:follow_up_done",
    "accounts:reassign",
]


def post_only_url(name, account, check_in) -> str:
    if name in ("accounts:check_in_new", "accounts:snooze", "accounts:wallet_new"):
        return reverse(name, args=[account.pk])
    if name == "accounts:wallet_remove":
        return reverse(name, args=[account.pk, account.wallets.get().pk])
    if name in ("accounts:check_in_delete", "accounts:follow_up_done"):
        return reverse(name, args=[check_in.pk])
    return reverse(name)


@pytest.mark.parametrize("name", POST_ONLY)
@pytest.mark.parametrize("method", ["get", "head", "put", "patch", "delete", "options"])
def test_post_only_endpoints_answer_other_methods_with_405(web, account, check_in, name, method):
    url = post_only_url(name, account, check_in)
    before = db_state()
    response = getattr(web, method)(url)
    assert response.status_code == 405
    assert db_state() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize(
    "name", ["accounts:new", "accounts:edit", "accounts:check_in_edit", "accounts:reassign_portfolio"]
)
def test_form_pages_do_not_crash_or_write_on_other_methods(web, account, check_in, name, method):
    args = {"accounts:edit": [account.pk], "accounts:check_in_edit": [check_in.pk]}.get(name, [])
    before = db_state()
    response = getattr(web, method)(reverse(name, args=args), "display_name=x")
    assert response.status_code != 500
    assert db_state() == before


# --- the list's query string -----------------------------------------------------------------


@pytest.fixture
def book(specialist, colleague):
    mine = [make_account(owner=specialist, display_name=f"Mine {n}") for n in range(3)]
    theirs = [make_account(owner=colleague, display_name=f"Theirs {n}") for n in range(2)]
    return {"mine": mine, "theirs": theirs}


def shown(response) -> set[str]:
    return {row.record.display_name for row in response.context["table"].paginated_rows}


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "nonexistent"},
        {"sort": "-"},
        {"sort": ""},
        {"sort": "--display_name"},
        {"sort": "owner__password"},
        {"sort": "selected"},
        {"sort": ["tier", "-owner", "bogus"]},
        {"page": "abc"},
        {"page": "999999"},
        {"page": HUGE_ID},
        {"page": "0"},
        {"page": "-3"},
        {"page": "1.5"},
        {"per_page": "abc"},
        {"per_page": "0"},
        {"per_page": "1.5"},
        {"owner": "abc"},
        {"owner": HUGE_ID},
        {"owner": "-1"},
        {"owner": "1.5"},
        {"owner": "\x00"},
        {"tier": "abc"},
        {"tier": HUGE_ID},
        {"status": "bogus"},
        {"due": "bogus"},
        {"due": ["overdue", "bogus"]},
        {"q": "x" * 10_000},
        {"q": "' OR 1=1 --"},
        {"q": '"; DROP TABLE accounts_account; --'},
        {"q": "%"},
        {"q": "_"},
        {"q": "\\"},
        {"q": "<script>alert(1)</script>"},
        {"q": "0x%%%%%%"},
        {"q": "0X" + "A" * 40},
        {"q": "\x00"},
        {"q": "Ωmega 🐳"},
    ],
    ids=lambda p: repr(p)[:60],
)
def test_the_list_survives_garbage_in_the_query_string(web, book, params):
    response = web.get(reverse("accounts:list"), params)
    assert response.status_code in (200, 400)
    assert response.status_code != 500


@pytest.mark.parametrize(
    "query",
    ["q=%ED%A0%80", "q=%FF%FE", "owner=%FF", "sort=%00", "page=%FF", "per_page=%C0%AF", "q=%", "a=1&&&=&q"],
)
def test_the_list_survives_bytes_that_are_not_utf8(web, book, query):
    response = web.get(reverse("accounts:list") + "?" + query)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "params", [{"owner": "abc"}, {"tier": "abc"}, {"status": "bogus"}, {"due": "bogus"}, {"owner": HUGE_ID}]
)
def test_an_invalid_filter_shows_a_message_and_no_rows(web, book, params):
    response = web.get(reverse("accounts:list"), params)
    assert response.status_code in (200, 400)
    assert shown(response) == set()
    assert response.context["filter"].form.errors


def test_sql_and_like_metacharacters_in_the_search_match_literally(web, book):
    for query in ("%", "_", "' OR 1=1 --", "\\"):
        assert shown(web.get(reverse("accounts:list"), {"owner": "", "q": query})) == set(), query


def test_html_in_the_search_is_escaped(web, book):
    response = web.get(reverse("accounts:list"), {"q": "<script>alert(1)</script>"})
    assert b"<script>alert(1)</script>" not in response.content


def test_a_page_past_the_end_shows_the_last_page(web, book):
    response = web.get(reverse("accounts:list"), {"owner": "", "page": "999999", "per_page": "2"})
    assert response.status_code == 200
    assert response.context["table"].page.number == 3


# A negative page size must not reach the paginator: django-tables2's RequestConfig reads
# ?per_page itself, and with no pages its fallback to the last page raises EmptyPage (a 500).
@pytest.mark.parametrize("per_page", ["-5", "-1"])
def test_a_negative_per_page_is_not_a_500(web, book, per_page):
    response = web.get(reverse("accounts:list"), {"per_page": per_page})
    assert response.status_code == 200
    assert 1 <= response.context["table"].paginator.per_page <= 200


# One request must not render the whole portfolio: the page size stays capped at MAX_PER_PAGE,
# although RequestConfig reads ?per_page itself.
@pytest.mark.parametrize("per_page", ["201", "100000", HUGE_ID])
def test_per_page_is_capped_at_200(web, book, per_page):
    response = web.get(reverse("accounts:list"), {"per_page": per_page})
    assert response.status_code == 200
    assert response.context["table"].paginator.per_page <= 200


@pytest.mark.parametrize(
    "params",
    [
        {"owner": "abc"},
        {"tier": "abc"},
        {"status": "bogus"},
        {"due": "bogus"},
        {"sort": "nonexistent", "page": "abc", "per_page": "-5"},
        {"q": "x" * 10_000},
        {"owner": HUGE_ID},
    ],
)
def test_csv_export_with_bad_filters_does_not_crash_or_leak_unfiltered_rows(web, book, params):
    response = web.get(reverse("accounts:list"), {"export": "csv", **params})
    assert response.status_code != 500
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/csv"):
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        exported = {row[0] for row in rows[1:]}
        # Either the filter applied (Specialist: own book) or nothing: never the colleague's rows
        # because a filter was dropped.
        assert not exported & {"Theirs 0", "Theirs 1"}


# An export with an invalid filter says so: a CSV with only its header would read as "no account
# matches".
def test_csv_export_with_an_invalid_filter_says_so(web, book):
    response = web.get(reverse("accounts:list"), {"export": "csv", "owner": "abc"})
    assert is_client_error(response) or not response.get("Content-Type", "").startswith("text/csv")


# --- new account -----------------------------------------------------------------------------


# An empty POST is a submission too (though request.POST, being empty, is falsy): it is answered
# with the form's messages and a 400, not with the blank form as on a first visit.
def test_an_empty_post_to_new_account_is_a_400_with_messages(web, specialist):
    before = db_state()
    response = web.post(reverse("accounts:new"), {})
    assert_rejected_on_form(response)
    assert db_state() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", ""),
        ("display_name", "   "),
        ("display_name", "\t\n"),
        ("display_name", "\u00a0\u00a0"),
        ("display_name", "\u3000"),
        ("display_name", "\u2003\u2009"),
        ("display_name", "x" * 121),
        ("display_name", "Ada\x00"),
        ("email", ""),
        ("email", "not-an-email"),
        ("email", "tëst@example.com"),
        ("email", "a@b@example.com"),
        ("email", "x" * 250 + "@example.com"),
        ("external_id", ""),
        ("external_id", "   "),
        ("external_id", "x" * 81),
        ("intercom_contact_id", "x" * 41),
        ("venue", "mars"),
        ("tier", ""),
        ("tier", "abc"),
        ("tier", HUGE_ID),
        ("tier", "999999"),
        ("owner", ""),
        ("owner", "abc"),
        ("owner", HUGE_ID),
        ("owner", "-1"),
        ("status", "bogus"),
        ("cadence_override_days", "0"),
        ("cadence_override_days", "366"),
        ("cadence_override_days", "-1"),
        ("cadence_override_days", "abc"),
        ("cadence_override_days", "1.5"),
        ("cadence_override_days", HUGE_ID),
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", ""),
        ("preferred_channel", "pigeon"),
        ("volume_30d_usd", "1e309"),
        ("volume_30d_usd", "NaN"),
        ("volume_30d_usd", "sNaN"),
        ("volume_30d_usd", "-NaN"),
        ("volume_30d_usd", "Infinity"),
        ("volume_30d_usd", "-Infinity"),
        ("volume_30d_usd", HUGE_ID),
        ("volume_30d_usd", "1e-309"),
        ("volume_30d_usd", "0.001"),
        ("volume_30d_usd", "abc"),
        ("volume_30d_usd", "1,000"),
        ("volume_prior_30d_usd", "NaN"),
        ("volume_prior_30d_usd", "1e309"),
        ("wallets", "not a wallet"),
        ("wallets", WALLET[:-1]),
        ("wallets", WALLET[:10] + " " + WALLET[10:]),
        ("wallets", WALLET.replace("a", "A", 1)),  # breaks the EIP-55 checksum
        ("wallets", f"{WALLET}\n{WALLET.lower()}"),
        ("wallets", WALLET + "00"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_bad_fields_on_new_account_are_a_400_with_a_message(web, specialist, field, value):
    before = db_state()
    response = web.post(reverse("accounts:new"), account_post_data(specialist, **{field: value}))
    assert_rejected_on_form(response)
    assert db_state() == before


@pytest.mark.parametrize("field", ["display_name", "email", "external_id", "tier", "owner", "time_zone"])
def test_a_missing_required_field_on_new_account_is_a_400(web, specialist, field):
    data = account_post_data(specialist)
    del data[field]
    before = db_state()
    errors = assert_rejected_on_form(web.post(reverse("accounts:new"), data))
    assert field in errors
    assert db_state() == before


# The account form refuses a negative 30-day volume as the CSV import does ('The 30-day volume
# can’t be negative'): two ways in, one rule.
@pytest.mark.parametrize("field", ["volume_30d_usd", "volume_prior_30d_usd"])
def test_a_negative_volume_is_refused(web, specialist, field):
    before = db_state()
    response = web.post(reverse("accounts:new"), account_post_data(specialist, **{field: "-1"}))
    assert_rejected_on_form(response)
    assert db_state() == before


def test_an_e_mail_differing_only_by_case_is_a_duplicate(web, specialist, account):
    before = db_state()
    response = web.post(
        reverse("accounts:new"), account_post_data(specialist, email="  MINE@Example.COM ", external_id="x-2")
    )
    errors = assert_rejected_on_form(response)
    # Shown above the form (the ModelForm checks the Lower("email") constraint), not on the field.
    assert "Another account already uses this e-mail address." in [m for ms in errors.values() for m in ms]
    assert db_state() == before


def test_a_duplicate_external_id_or_intercom_id_is_a_400(web, specialist, account):
    Account.objects.filter(pk=account.pk).update(intercom_contact_id="ic-1")
    before = db_state()
    for overrides in ({"external_id": account.external_id}, {"intercom_contact_id": "ic-1"}):
        response = web.post(
            reverse("accounts:new"), account_post_data(specialist, email="fresh@example.com", **overrides)
        )
        assert_rejected_on_form(response)
    assert db_state() == before


def test_a_unicode_domain_e_mail_is_saved_or_refused_cleanly(web, specialist):
    response = web.post(reverse("accounts:new"), account_post_data(specialist, email="ADA@Exämple.com"))
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert Account.objects.get().email == "ada@exämple.com"


@pytest.mark.parametrize(
    "owner_kind", ["leader", "product", "admin", "inactive_specialist", "superuser_without_role"]
)
def test_only_an_active_specialist_can_own_a_new_account(web, people, owner_kind):
    owner = {
        "leader": lambda: people["Leadership"],
        "product": lambda: people["Product"],
        "admin": lambda: people["Admin"],
        "inactive_specialist": lambda: specialist_user(username="gone", is_active=False),
        "superuser_without_role": lambda: UserFactory(username="root", is_superuser=True, roles=[]),
    }[owner_kind]()
    before = db_state()
    errors = assert_rejected_on_form(web.post(reverse("accounts:new"), account_post_data(owner)))
    assert "owner" in errors
    assert db_state() == before


def test_a_wallet_of_another_account_refuses_the_whole_account(web, specialist, other_account):
    before = db_state()
    response = web.post(
        reverse("accounts:new"), account_post_data(specialist, wallets=f"{WALLET_3}\n{WALLET_2}")
    )
    errors = assert_rejected_on_form(response)
    assert "Theirs" in " ".join(m for ms in errors.values() for m in ms)
    assert db_state() == before  # no account, no first wallet, no event, no outbox job


@pytest.mark.parametrize(
    "wallets",
    [
        f"  {WALLET}  ",
        f"\n\n{WALLET}\r\n\r\n{WALLET_3}\n",
        f"\t{WALLET_3}\t",
        WALLET.lower(),
        "0x" + WALLET[2:].upper(),
    ],
    ids=repr,
)
def test_wallets_with_surrounding_whitespace_or_one_case_are_accepted(web, specialist, wallets):
    response = web.post(reverse("accounts:new"), account_post_data(specialist, wallets=wallets))
    assert response.status_code == 302
    for address in Wallet.objects.values_list("address", flat=True):
        assert address == address.lower() and address.startswith("0x") and len(address) == 42


@pytest.mark.parametrize("prefix", ["0X", " 0X"])
def test_an_uppercase_0x_prefix_is_accepted_or_refused_with_a_message(web, specialist, prefix):
    before = db_state()
    response = web.post(reverse("accounts:new"), account_post_data(specialist, wallets=prefix + WALLET_3[2:]))
    if response.status_code == 302:
        assert Wallet.objects.get().address == WALLET_3
    else:
        assert_rejected_on_form(response)
        assert db_state() == before


# --- editing an account ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "   "),
        ("email", "   "),
        ("email", "nope"),
        ("email", "THEIRS@EXAMPLE.COM"),
        ("external_id", "user-theirs"),
        ("owner", "abc"),
        ("owner", HUGE_ID),
        ("tier", HUGE_ID),
        ("status", "deleted"),
        ("cadence_override_days", "0"),
        ("cadence_override_days", "366"),
        ("cadence_override_days", "-1"),
        ("cadence_override_days", "abc"),
        ("volume_30d_usd", "NaN"),
        ("volume_30d_usd", "1e309"),
        ("volume_30d_usd", HUGE_ID),
        ("volume_prior_30d_usd", "Infinity"),
        ("time_zone", "Nowhere/Land"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_bad_fields_on_edit_are_a_400_and_change_nothing(web, account, other_account, field, value):
    Account.objects.filter(pk=other_account.pk).update(external_id="user-theirs")
    before = db_state()
    response = web.post(
        reverse("accounts:edit", args=[account.pk]), edit_post_data(account, **{field: value})
    )
    assert_rejected_on_form(response)
    assert db_state() == before
    # The page shows what is stored, not the rejected value, outside the form.
    assert response.context["account"].email == "mine@example.com"


def test_edit_cannot_hand_the_account_to_a_non_specialist(web, account, leader):
    before = db_state()
    response = web.post(
        reverse("accounts:edit", args=[account.pk]), edit_post_data(account, owner=str(leader.pk))
    )
    assert "owner" in assert_rejected_on_form(response)
    assert db_state() == before


def test_edit_ignores_fields_it_does_not_offer(web, account, other_account):
    data = edit_post_data(
        account,
        next_check_in_due="2000-01-01T00:00",
        health_score="100",
        id=str(other_account.pk),
        pk=str(other_account.pk),
        last_check_in_at="1999-01-01T00:00",
    )
    due_before = Account.objects.get(pk=account.pk).next_check_in_due
    response = web.post(reverse("accounts:edit", args=[account.pk]), data)
    assert response.status_code == 302
    assert Account.objects.get(pk=account.pk).next_check_in_due == due_before
    assert Account.objects.get(pk=other_account.pk).display_name == "Theirs"


# An empty POST to the edit page is a submission too (though request.POST is falsy): a 400 with
# the form's messages, not the form again as if nothing had been sent.
def test_an_empty_post_to_edit_is_a_400(web, account):
    before = db_state()
    response = web.post(reverse("accounts:edit", args=[account.pk]), {})
    assert_rejected_on_form(response)
    assert db_state() == before


def test_leadership_cannot_edit(client, leader, account):
    client.force_login(leader)
    client.raise_request_exception = False
    before = db_state()
    assert (
        client.post(reverse("accounts:edit", args=[account.pk]), edit_post_data(account)).status_code == 403
    )
    assert db_state() == before


# --- logging a check-in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", ""),
        ("occurred_at", "2026-13-45T10:00"),
        ("occurred_at", "2025-02-30T10:00"),
        ("occurred_at", "2025-01-01T25:00"),
        ("occurred_at", "yesterday"),
        ("occurred_at", "10000-01-01T00:00"),
        ("occurred_at", "2999-01-01T00:00"),  # the future
        ("occurred_at", "9999-12-31T23:59"),
        ("occurred_at", "\x00"),
        ("summary", ""),
        ("summary", "   \n\t "),
        ("kind", "bogus"),
        ("channel", "carrier-pigeon"),
        ("sentiment", "ecstatic"),
        ("follow_up", "x" * 241),
        ("follow_up_due", "2026-02-30"),
        ("follow_up_due", "2026-13-45"),
        ("follow_up_due", "soon"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_bad_check_in_fields_are_a_400_and_write_nothing(web, account, field, value):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_new", args=[account.pk]), check_in_post_data(**{field: value})
    )
    assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before


def test_a_follow_up_date_without_text_is_a_400_and_writes_nothing(web, account):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(follow_up="   ", follow_up_due="2026-01-01"),
    )
    errors = assert_rejected_on_form(response, "check_in_form")
    assert "Describe the follow-up that is due." in [m for ms in errors.values() for m in ms]
    assert db_state() == before


@pytest.mark.parametrize("field", ["occurred_at", "summary", "kind", "channel", "sentiment"])
def test_a_check_in_missing_a_field_is_a_400(web, account, field):
    data = check_in_post_data()
    del data[field]
    before = db_state()
    assert_rejected_on_form(
        web.post(reverse("accounts:check_in_new", args=[account.pk]), data), "check_in_form"
    )
    assert db_state() == before


# Year 1 entered east of UTC falls before datetime.min once in UTC: the form refuses it, so saving
# never overflows (an OverflowError, a 500).
@pytest.mark.parametrize("time_zone", ["Pacific/Kiritimati", "Asia/Tokyo", "Europe/Berlin"])
def test_a_year_one_check_in_east_of_utc_is_refused_not_a_500(client, account, time_zone):
    person = specialist_user(username="east", time_zone=time_zone)
    client.force_login(person)
    client.raise_request_exception = False
    before = db_state()
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(occurred_at="0001-01-01T00:00"),
    )
    assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before


# A check-in dated 0001-01-01 00:00 UTC must not break the account page or the portfolio list for
# anyone west of UTC, where showing it in local time would overflow (OverflowError in localtime).
def test_a_year_one_check_in_does_not_break_the_account_for_people_west_of_utc(web, client, account):
    web.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(occurred_at="0001-01-01T00:00"),
    )
    viewer = specialist_user(username="westie", time_zone="America/New_York")
    client.force_login(viewer)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200
    assert client.get(reverse("accounts:list"), {"owner": ""}).status_code == 200


# A check-in date centuries back is a typo, refused: it would make the account overdue by
# ~740,000 days.
def test_an_absurdly_old_check_in_date_is_refused(web, account):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(occurred_at="0001-01-01T00:00"),
    )
    assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before


def test_a_1900_check_in_is_handled_without_a_500(web, client, account):
    response = web.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(occurred_at="1900-01-01T00:00"),
    )
    assert response.status_code in (302, 400)
    viewer = specialist_user(username="westie", time_zone="America/Los_Angeles")
    client.force_login(viewer)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200


# --- editing, deleting a check-in, its follow-up ---------------------------------------------


def test_editing_a_check_in_into_the_future_is_a_400_and_changes_nothing(web, check_in):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_edit", args=[check_in.pk]),
        check_in_post_data(occurred_at="2999-01-01T00:00"),
    )
    assert "occurred_at" in assert_rejected_on_form(response)
    assert db_state() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "2026-13-45T10:00"),
        ("summary", "  "),
        ("kind", "bogus"),
        ("follow_up_due", "2026-02-30"),
    ],
)
def test_bad_check_in_edits_are_a_400_and_change_nothing(web, check_in, field, value):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_edit", args=[check_in.pk]), check_in_post_data(**{field: value})
    )
    assert_rejected_on_form(response)
    assert db_state() == before


def test_a_follow_up_date_without_text_on_edit_is_a_400(web, check_in):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_edit", args=[check_in.pk]),
        check_in_post_data(follow_up="", follow_up_due="2026-01-01"),
    )
    errors = assert_rejected_on_form(response)
    assert "Describe the follow-up that is due." in [m for ms in errors.values() for m in ms]
    assert db_state() == before


# Editing a check-in to year 1 as someone east of UTC is refused, never an overflow on save (a 500).
def test_editing_a_check_in_to_year_one_east_of_utc_is_not_a_500(client, check_in):
    person = specialist_user(username="east", time_zone="Asia/Tokyo")
    client.force_login(person)
    client.raise_request_exception = False
    before = db_state()
    response = client.post(
        reverse("accounts:check_in_edit", args=[check_in.pk]),
        check_in_post_data(occurred_at="0001-01-01T00:00"),
    )
    assert is_client_error(response)
    assert db_state() == before


def test_a_crafted_account_field_cannot_move_a_check_in_to_another_account(web, check_in, other_account):
    response = web.post(
        reverse("accounts:check_in_edit", args=[check_in.pk]),
        {**check_in_post_data(), "account": str(other_account.pk), "specialist": "999"},
    )
    assert response.status_code == 302
    check_in.refresh_from_db()
    assert check_in.account_id != other_account.pk
    assert not other_account.check_ins.exists()


def test_leadership_cannot_edit_delete_or_close_a_check_in(client, leader, check_in):
    client.force_login(leader)
    client.raise_request_exception = False
    before = db_state()
    assert client.get(reverse("accounts:check_in_edit", args=[check_in.pk])).status_code == 403
    assert (
        client.post(reverse("accounts:check_in_edit", args=[check_in.pk]), check_in_post_data()).status_code
        == 403
    )
    assert client.post(reverse("accounts:check_in_delete", args=[check_in.pk])).status_code == 403
    assert client.post(reverse("accounts:follow_up_done", args=[check_in.pk])).status_code == 403
    assert db_state() == before


def test_deleting_a_check_in_twice_is_a_404_the_second_time(web, check_in):
    url = reverse("accounts:check_in_delete", args=[check_in.pk])
    assert web.post(url).status_code == 302
    before = db_state()
    assert web.post(url).status_code == 404
    assert db_state() == before
    # And its edit and follow-up pages are gone too.
    assert web.get(reverse("accounts:check_in_edit", args=[check_in.pk])).status_code == 404
    assert web.post(reverse("accounts:follow_up_done", args=[check_in.pk])).status_code == 404


def test_follow_up_done_on_a_check_in_without_one_says_so_and_writes_nothing(web, plain_check_in):
    before = db_state()
    response = web.post(reverse("accounts:follow_up_done", args=[plain_check_in.pk]))
    assert_on_site(response)
    assert error_messages(response) == ["This check-in has no follow-up."]
    assert db_state() == before


def test_follow_up_done_twice_is_harmless(web, check_in):
    url = reverse("accounts:follow_up_done", args=[check_in.pk])
    assert web.post(url).status_code == 302
    before = db_state()
    response = web.post(url)
    assert_on_site(response)
    assert db_state() == before


NEXT_TARGETS = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "\x00//evil.example",
    "https:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://testserver@evil.example/",
    "http://evil.example\\@testserver/",
    "https://evil.example.com:443/",
    "/%2F%2Fevil.example",
    "/accounts/\r\nSet-Cookie: x=1",
]


@pytest.mark.parametrize("target", NEXT_TARGETS, ids=repr)
def test_follow_up_done_never_redirects_off_site(web, check_in, target):
    response = web.post(reverse("accounts:follow_up_done", args=[check_in.pk]), {"next": target})
    assert_on_site(response)


@pytest.mark.parametrize("target", NEXT_TARGETS, ids=repr)
def test_reassign_never_redirects_off_site(web, account, colleague, target):
    response = web.post(
        reverse("accounts:reassign"), {"selected": [account.pk], "to": colleague.pk, "next": target}
    )
    assert_on_site(response)


def test_a_safe_next_is_followed(web, check_in):
    response = web.post(reverse("accounts:follow_up_done", args=[check_in.pk]), {"next": "/my-day/?x=1"})
    assert response["Location"] == "/my-day/?x=1"


# --- snooze ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"days": "0", "reason": "away"},
        {"days": "15", "reason": "away"},
        {"days": "-1", "reason": "away"},
        {"days": "abc", "reason": "away"},
        {"days": "1.5", "reason": "away"},
        {"days": "1e1", "reason": "away"},
        {"days": HUGE_ID, "reason": "away"},
        {"days": "", "reason": "away"},
        {"reason": "away"},
        {"days": "3"},
        {"days": "3", "reason": "   "},
        {"days": "3", "reason": "x" * 201},
        {"days": "3", "reason": "away\x00"},
        {},
    ],
    ids=lambda d: repr(d)[:50],
)
def test_bad_snoozes_are_a_400_and_write_nothing(web, account, data):
    before = db_state()
    response = web.post(reverse("accounts:snooze", args=[account.pk]), data)
    assert_rejected_on_form(response, "snooze_form")
    assert db_state() == before


@pytest.mark.parametrize("status", ["paused", "offboarded"])
def test_snoozing_an_inactive_account_is_a_400_and_writes_nothing(web, account, status):
    from accounts.services import account_update

    account_update(account=account, by=None, changes={"status": status})
    before = db_state()
    response = web.post(reverse("accounts:snooze", args=[account.pk]), {"days": "3", "reason": "away"})
    assert "days" in assert_rejected_on_form(response, "snooze_form")
    assert db_state() == before


# --- wallets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "not a wallet",
        WALLET[:-1],
        WALLET + "0",
        WALLET[:10] + " " + WALLET[10:],
        WALLET[:10] + "\n" + WALLET[10:],
        WALLET.replace("a", "A", 1),
        "0x" + "g" * 40,
        "x" * 1000,
        "0x\x00" + "a" * 39,
    ],
    ids=lambda a: repr(a)[:40],
)
def test_bad_wallet_addresses_are_a_400_and_write_nothing(web, account, address):
    before = db_state()
    response = web.post(reverse("accounts:wallet_new", args=[account.pk]), {"address": address})
    assert "address" in assert_rejected_on_form(response, "wallet_form")
    assert db_state() == before


@pytest.mark.parametrize(
    "address", [f"  {WALLET_3}  ", f"\n{WALLET_3}\r\n", f"\t{WALLET_3}", WALLET_3.upper().replace("0X", "0x")]
)
def test_wallet_addresses_with_surrounding_whitespace_are_accepted(web, account, address):
    response = web.post(reverse("accounts:wallet_new", args=[account.pk]), {"address": address})
    assert response.status_code == 302
    assert account.wallets.filter(address=WALLET_3).exists()


def test_an_uppercase_0x_prefix_on_a_wallet_is_accepted_or_refused_with_a_message(web, account):
    before = db_state()
    response = web.post(reverse("accounts:wallet_new", args=[account.pk]), {"address": "0X" + WALLET_3[2:]})
    if response.status_code == 302:
        assert account.wallets.filter(address=WALLET_3).exists()
    else:
        assert "address" in assert_rejected_on_form(response, "wallet_form")
        assert db_state() == before


@pytest.mark.parametrize("which", ["this account", "another account"])
def test_a_wallet_already_held_is_a_400_naming_the_holder(web, account, other_account, which):
    address = WALLET if which == "this account" else WALLET_2.lower()
    before = db_state()
    response = web.post(reverse("accounts:wallet_new", args=[account.pk]), {"address": address})
    errors = assert_rejected_on_form(response, "wallet_form")
    assert ("this account" if which == "this account" else "Theirs") in " ".join(errors["address"])
    assert db_state() == before


def test_a_wallet_label_over_60_characters_is_a_400(web, account):
    before = db_state()
    response = web.post(
        reverse("accounts:wallet_new", args=[account.pk]), {"address": WALLET_3, "label": "x" * 61}
    )
    assert "label" in assert_rejected_on_form(response, "wallet_form")
    assert db_state() == before


def test_removing_another_accounts_wallet_through_this_account_is_a_404(web, account, other_account):
    theirs = other_account.wallets.get()
    before = db_state()
    assert web.post(reverse("accounts:wallet_remove", args=[account.pk, theirs.pk])).status_code == 404
    assert db_state() == before


def test_removing_a_wallet_twice_is_a_404_the_second_time(web, account):
    url = reverse("accounts:wallet_remove", args=[account.pk, account.wallets.get().pk])
    assert web.post(url).status_code == 302
    before = db_state()
    assert web.post(url).status_code == 404
    assert db_state() == before


# --- reassigning -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selected",
    [
        [],
        ["abc"],
        ["999999"],
        ["-1"],
        ["1.5"],
        [""],
        ["\x00"],
        ["{mine}", "abc"],
        ["{mine}", "999999"],
    ],
    ids=repr,
)
def test_reassigning_bad_account_ids_moves_nothing_and_says_why(web, account, colleague, selected):
    ids = [s.format(mine=account.pk) for s in selected]
    before = db_state()
    response = web.post(reverse("accounts:reassign"), {"selected": ids, "to": colleague.pk})
    assert_on_site(response)
    assert error_messages(response)
    assert db_state() == before


# A selected id beyond 64 bits moves nothing and says why: on SQLite the pk__in query of
# ModelMultipleChoiceField overflows (OverflowError), which must not become a 500.
@pytest.mark.parametrize("huge", [HUGE_ID, BIG_ID])
def test_reassigning_an_id_beyond_64_bits_moves_nothing_and_says_why(web, account, colleague, huge):
    before = db_state()
    response = web.post(reverse("accounts:reassign"), {"selected": [account.pk, huge], "to": colleague.pk})
    assert_on_site(response)
    assert error_messages(response)
    assert db_state() == before


@pytest.mark.parametrize("to", ["", "abc", "999999", HUGE_ID, "-1", "{leader}", "{product}", "{inactive}"])
def test_reassigning_to_someone_who_is_not_an_active_specialist_moves_nothing(
    web, account, leader, product_person, to
):
    inactive = specialist_user(username="inactive", is_active=False)
    target = to.format(leader=leader.pk, product=product_person.pk, inactive=inactive.pk)
    before = db_state()
    response = web.post(reverse("accounts:reassign"), {"selected": [account.pk], "to": target})
    assert_on_site(response)
    assert error_messages(response)
    assert db_state() == before


def test_reassigning_to_the_current_owner_moves_nothing(web, account, specialist):
    before = db_state()
    response = web.post(reverse("accounts:reassign"), {"selected": [account.pk], "to": specialist.pk})
    assert_on_site(response)
    assert db_state() == before
    assert any("0 accounts moved" in m for m in messages_of(response))


def test_a_reassign_reason_over_200_characters_moves_nothing(web, account, colleague):
    before = db_state()
    response = web.post(
        reverse("accounts:reassign"), {"selected": [account.pk], "to": colleague.pk, "reason": "x" * 201}
    )
    assert_on_site(response)
    assert error_messages(response)
    assert db_state() == before


def test_reassigning_more_ids_than_django_accepts_is_a_4xx_not_a_500(web, account, colleague):
    before = db_state()
    response = web.post(
        reverse("accounts:reassign"), {"selected": [str(n) for n in range(1, 1200)], "to": colleague.pk}
    )
    assert response.status_code != 500
    assert db_state() == before


def test_moving_a_portfolio_to_the_same_person_is_a_400(web, account, specialist):
    before = db_state()
    response = web.post(
        reverse("accounts:reassign_portfolio"), {"from_owner": specialist.pk, "to": specialist.pk}
    )
    assert_rejected_on_form(response)
    assert db_state() == before


@pytest.mark.parametrize(
    ("from_owner", "to"),
    [
        ("", "{colleague}"),
        ("{me}", ""),
        ("abc", "{colleague}"),
        ("{me}", "abc"),
        (HUGE_ID, "{colleague}"),
        ("{me}", HUGE_ID),
        ("{me}", "{leader}"),
        ("{leader}", "{me}"),
        ("-1", "{colleague}"),
    ],
)
def test_moving_a_portfolio_with_bad_people_is_a_400(
    web, account, specialist, colleague, leader, from_owner, to
):
    ids = {"me": specialist.pk, "colleague": colleague.pk, "leader": leader.pk}
    before = db_state()
    response = web.post(
        reverse("accounts:reassign_portfolio"),
        {"from_owner": from_owner.format(**ids), "to": to.format(**ids)},
    )
    assert_rejected_on_form(response)
    assert db_state() == before


def test_moving_an_empty_portfolio_says_nothing_moved(web, specialist, colleague):
    before = db_state()
    response = web.post(
        reverse("accounts:reassign_portfolio"), {"from_owner": colleague.pk, "to": specialist.pk}
    )
    assert_on_site(response)
    assert any("0 accounts moved" in m for m in messages_of(response))
    assert db_state() == before


# --- the CSV import --------------------------------------------------------------------------


def upload(client, uploaded, **extra):
    return client.post(reverse("accounts:import"), {"file": uploaded, **extra})


@pytest.mark.parametrize(
    "uploaded",
    [
        SimpleUploadedFile("empty.csv", b"", content_type="text/csv"),
        SimpleUploadedFile("blank.csv", b"\n\n\n", content_type="text/csv"),
        SimpleUploadedFile("bom.csv", b"\xef\xbb\xbf", content_type="text/csv"),
        SimpleUploadedFile(
            "image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, content_type="image/png"
        ),
        SimpleUploadedFile("zip.csv", b"PK\x03\x04" + b"\x00\xff" * 500, content_type="text/csv"),
        SimpleUploadedFile(
            "latin1.csv",
            ",".join(HEADER).encode() + "\nJosé,j@x.com,1,Tier 1,spec\n".encode("latin-1"),
            content_type="text/csv",
        ),
        SimpleUploadedFile("utf16.csv", ",".join(HEADER).encode("utf-16-le"), content_type="text/csv"),
        SimpleUploadedFile("three.csv", b"a,b,c\n1,2,3\n", content_type="text/csv"),
        SimpleUploadedFile(
            "three-real.csv", b"display_name,email,external_id\nA,a@x.com,1\n", content_type="text/csv"
        ),
        SimpleUploadedFile("header-only.csv", ",".join(HEADER).encode() + b"\n", content_type="text/csv"),
        SimpleUploadedFile(
            "semicolons.csv",
            ";".join(HEADER).encode() + b"\nA;a@x.com;1;Tier 1;spec\n",
            content_type="text/csv",
        ),
        SimpleUploadedFile(
            "quote.csv", ",".join(HEADER).encode() + b'\n"A,a@x.com,1,Tier 1,spec\n', content_type="text/csv"
        ),
        SimpleUploadedFile("huge-line.csv", b"x" * 1_000_000, content_type="text/csv"),
        SimpleUploadedFile(
            "huge-cell.csv",
            ",".join(HEADER).encode() + b"\n" + b"y" * 400_000 + b",a@x.com,1,Tier 1,spec\n",
            content_type="text/csv",
        ),
        SimpleUploadedFile("too-big.csv", b"a," * (3 * 1024 * 1024), content_type="text/csv"),
        SimpleUploadedFile(
            "nul.csv", ",".join(HEADER).encode() + b"\nA\x00,a@x.com,1,Tier 1,spec\n", content_type="text/csv"
        ),
    ],
    ids=lambda f: f.name,
)
def test_an_unusable_file_is_a_400_with_a_message_and_keeps_nothing(web, specialist, uploaded):
    before = db_state()
    response = upload(web, uploaded)
    assert "file" in assert_rejected_on_form(response)
    assert db_state() == before


def test_no_file_at_all_is_a_400(web):
    before = db_state()
    assert "file" in assert_rejected_on_form(web.post(reverse("accounts:import"), {}))
    assert "file" in assert_rejected_on_form(web.post(reverse("accounts:import"), {"file": "not a file"}))
    assert db_state() == before


def test_a_huge_single_line_without_commas_is_refused(web):
    before = db_state()
    response = upload(web, SimpleUploadedFile("line.csv", b"x" * 4_000_000, content_type="text/csv"))
    assert "file" in assert_rejected_on_form(response)
    assert db_state() == before


def test_a_single_line_of_many_columns_is_refused_with_a_short_message(web):
    # Was quadratic in the number of columns, and listed every one of them in the message.
    before = db_state()
    response = upload(web, SimpleUploadedFile("commas.csv", b"a," * 25_000, content_type="text/csv"))
    errors = assert_rejected_on_form(response)
    assert "file" in errors
    assert "more" in errors["file"][0] and len(errors["file"][0]) < 2_000
    assert db_state() == before


def test_a_value_repeated_on_every_row_gives_bounded_error_messages(web):
    rows = [HEADER] + [[f"T{n}", "same@example.com", f"ext-{n}", "Tier 1", "spec"] for n in range(500)]
    response = upload(web, csv_file(rows))
    assert response.status_code == 302
    account_import = AccountImport.objects.get()
    assert account_import.status == AccountImport.Status.FAILED
    assert not Account.objects.exists()
    assert max(len(e["message"]) for e in account_import.errors) <= 1_000
    assert sum(len(e["message"]) for e in account_import.errors) <= 200_000


@pytest.mark.parametrize(
    "cells",
    [
        ["A", "a@x.com", "1", "Tier 1", "spec", "extra"],
        ["A", "a@x.com", "1", "No such tier", "spec"],
        ["A", "a@x.com", "1", "Tier 1", "nobody"],
        ["A", "a@x.com", "1", "Tier 1", "lead"],
        ["   ", "a@x.com", "1", "Tier 1", "spec"],
        ["A", "tëst@x.com", "1", "Tier 1", "spec"],
        ["A" * 200, "a@x.com", "1", "Tier 1", "spec"],
        ["A", "a@x.com", "1" * 100, "Tier 1", "spec"],
    ],
    ids=lambda c: repr(c)[:40],
)
def test_a_bad_row_fails_the_import_with_a_reason_and_writes_no_account(web, leader, cells):
    accounts_before = list(Account.objects.values())
    response = upload(web, csv_file([HEADER, cells]))
    assert response.status_code == 302
    account_import = AccountImport.objects.get()
    assert account_import.status == AccountImport.Status.FAILED
    assert account_import.errors
    assert list(Account.objects.values()) == accounts_before
    assert web.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("cadence_override_days", "0"),
        ("cadence_override_days", "366"),
        ("cadence_override_days", "-1"),
        ("cadence_override_days", "abc"),
        ("cadence_override_days", "NaN"),
        ("cadence_override_days", "sNaN"),
        ("cadence_override_days", "Infinity"),
        ("cadence_override_days", "1e999999999"),
        ("cadence_override_days", "1.5"),
        ("volume_30d_usd", "1e309"),
        ("volume_30d_usd", "NaN"),
        ("volume_30d_usd", "sNaN"),
        ("volume_30d_usd", "-1"),
        ("volume_30d_usd", HUGE_ID),
        ("volume_30d_usd", "1e-309"),
        ("time_zone", "Mars/Base"),
        ("status", "bogus"),
        ("venue", "moon"),
        ("preferred_channel", "fax"),
        ("wallets", "0X" + WALLET_3[2:] + " extra"),
        ("wallets", WALLET.replace("a", "A", 1)),
    ],
)
def test_bad_optional_cells_fail_the_import_with_the_column_named(web, column, value):
    header = [*HEADER, column]
    response = upload(web, csv_file([header, ["A", "a@x.com", "ext-1", "Tier 1", "spec", value]]))
    assert response.status_code == 302
    account_import = AccountImport.objects.get()
    assert account_import.status == AccountImport.Status.FAILED
    assert {e["column"] for e in account_import.errors} == {column}
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "x" * 250 + ".csv",
        "book." + "c" * 200,
        "../../etc/passwd.csv",
        "book\x00.csv",
        "книга 📚.csv",
        "a" * 300,
    ],
    ids=lambda n: repr(n)[:30],
)
def test_odd_file_names_do_not_crash_the_upload(web, name):
    response = upload(
        web, SimpleUploadedFile(name, ",".join(HEADER).encode() + b"\nA,a@x.com,1,Tier 1,spec\n")
    )
    assert response.status_code != 500
    if response.status_code == 302:
        assert Account.objects.count() == 1


def test_the_import_pages_refuse_leadership(client, leader):
    client.force_login(leader)
    client.raise_request_exception = False
    before = db_state()
    assert upload(client, csv_file([HEADER, ["A", "a@x.com", "1", "Tier 1", "spec"]])).status_code == 403
    assert db_state() == before


# --- time zones, hosts, sizes, people who left -----------------------------------------------


@pytest.fixture
def berliner(db):
    return specialist_user(username="berliner", time_zone="Europe/Berlin")


def test_a_check_in_time_that_does_not_exist_in_the_persons_zone_is_a_400(client, berliner, account):
    client.force_login(berliner)
    client.raise_request_exception = False
    before = db_state()
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(occurred_at="2025-03-30T02:30"),  # the clocks jump 02:00 -> 03:00
    )
    assert "occurred_at" in assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before


def test_an_ambiguous_check_in_time_is_saved_or_refused_cleanly(client, berliner, account):
    client.force_login(berliner)
    client.raise_request_exception = False
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(occurred_at="2025-10-26T02:30"),  # happens twice
    )
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert form_errors(response, "check_in_form")


def test_a_spoofed_host_cannot_make_next_point_off_site(web, check_in):
    before = db_state()
    response = web.post(
        reverse("accounts:follow_up_done", args=[check_in.pk]),
        {"next": "https://evil.example/"},
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 400  # DisallowedHost
    assert db_state() == before


def test_a_body_over_the_upload_limit_is_a_4xx_and_writes_nothing(web, specialist):
    before = db_state()
    response = web.post(reverse("accounts:new"), account_post_data(specialist, notes="x" * 3_000_000))
    assert is_client_error(response)
    assert db_state() == before


@pytest.fixture
def left(colleague, other_account):
    """The colleague left: deactivated, still owning their accounts."""
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    return colleague


def test_the_portfolio_of_a_specialist_who_left_can_be_moved(web, specialist, left, other_account):
    response = web.post(reverse("accounts:reassign_portfolio"), {"from_owner": left.pk, "to": specialist.pk})
    assert response.status_code == 302, form_errors(response)
    assert Account.objects.get(pk=other_account.pk).owner == specialist


def test_an_account_whose_owner_left_can_still_be_edited(web, left, other_account):
    response = web.post(
        reverse("accounts:edit", args=[other_account.pk]), edit_post_data(other_account, notes="On leave")
    )
    assert response.status_code == 302, form_errors(response)
    assert Account.objects.get(pk=other_account.pk).notes == "On leave"


def test_an_account_whose_owner_left_can_still_be_viewed_and_checked_in(web, left, other_account):
    assert web.get(reverse("accounts:detail", args=[other_account.pk])).status_code == 200
    response = web.post(reverse("accounts:check_in_new", args=[other_account.pk]), check_in_post_data())
    assert response.status_code == 302


XSS = '<img src=x onerror="alert(1)">'


def test_markup_typed_into_any_field_is_shown_escaped(web, specialist):
    account = make_account(owner=specialist, display_name=XSS, notes=f"line one\n{XSS}", wallets=[])
    make_check_in(account, summary=XSS, follow_up=XSS)
    web.post(reverse("accounts:wallet_new", args=[account.pk]), {"address": WALLET_3, "label": XSS})
    web.post(reverse("accounts:snooze", args=[account.pk]), {"days": "3", "reason": XSS})
    check_in = account.check_ins.get()
    pages = [
        web.get(reverse("accounts:detail", args=[account.pk])),
        web.get(reverse("accounts:list")),
        web.get(reverse("accounts:list"), {"q": XSS}),
        web.get(reverse("accounts:check_in_edit", args=[check_in.pk])),
        web.post(reverse("accounts:follow_up_done", args=[check_in.pk]), follow=True),
    ]
    for response in pages:
        assert response.status_code == 200
        assert XSS.encode() not in response.content, response.request["PATH_INFO"]


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u2060\ufeff"], ids=repr)
def test_an_invisible_display_name_is_refused(web, specialist, name):
    before = db_state()
    response = web.post(reverse("accounts:new"), account_post_data(specialist, display_name=name))
    assert "display_name" in assert_rejected_on_form(response)
    assert db_state() == before


# --- edge cases of the pk and date guards -----------------------------------------------------


def post_unicode_digit_everywhere(web, account, colleague, digit) -> dict[str, int]:
    return {
        "list ?owner": web.get(reverse("accounts:list"), {"owner": digit}).status_code,
        "list ?tier": web.get(reverse("accounts:list"), {"tier": digit}).status_code,
        "reassign selected": web.post(
            reverse("accounts:reassign"), {"selected": [digit], "to": colleague.pk}
        ).status_code,
        "reassign to": web.post(
            reverse("accounts:reassign"), {"selected": [account.pk], "to": digit}
        ).status_code,
        "new tier": web.post(
            reverse("accounts:new"), account_post_data(colleague, tier=digit, external_id="u-1")
        ).status_code,
        "new owner": web.post(
            reverse("accounts:new"), account_post_data(colleague, owner=digit, external_id="u-2")
        ).status_code,
        "portfolio from": web.post(
            reverse("accounts:reassign_portfolio"), {"from_owner": digit, "to": colleague.pk}
        ).status_code,
    }


@pytest.mark.parametrize("digit", ["١", "𝟙", "߁"], ids=repr)
def test_unicode_decimal_digits_as_ids_are_not_a_500(web, account, colleague, digit):
    """int() reads these as 1, as Django's own ModelChoiceField does."""
    statuses = post_unicode_digit_everywhere(web, account, colleague, digit)
    assert 500 not in statuses.values(), statuses


@pytest.mark.parametrize("digit", ["²", "①", "12²"], ids=repr)
def test_digit_like_characters_as_ids_are_not_a_500(web, account, colleague, digit):
    before = db_state()
    statuses = post_unicode_digit_everywhere(web, account, colleague, digit)
    assert 500 not in statuses.values(), statuses
    assert db_state() == before


@pytest.mark.parametrize(
    "when",
    [
        "01/01/0001 00:00",
        "01/01/0001 00:30:00",
        "12/31/1899 23:00",
        " 0001-01-01T00:00",
        "0001-01-01 00:00:00",
    ],
)
@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_year_one_in_any_accepted_input_format_is_refused(client, account, time_zone, when):
    person = specialist_user(username="tz", time_zone=time_zone)
    client.force_login(person)
    client.raise_request_exception = False
    before = db_state()
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]), check_in_post_data(occurred_at=when)
    )
    assert "occurred_at" in assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before


@pytest.mark.parametrize("when", ["12/31/9999 23:59", "9999-12-31T23:59", "2101-01-01T00:00"])
@pytest.mark.parametrize("time_zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_a_far_future_check_in_is_refused_in_any_zone(client, account, time_zone, when):
    person = specialist_user(username="tz", time_zone=time_zone)
    client.force_login(person)
    client.raise_request_exception = False
    before = db_state()
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]), check_in_post_data(occurred_at=when)
    )
    assert "occurred_at" in assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before


@pytest.mark.parametrize("due", ["0001-01-01", "01/01/0001", "9999-12-31", "12/31/9999"])
def test_an_absurd_follow_up_date_is_refused(web, account, due):
    before = db_state()
    response = web.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        check_in_post_data(follow_up="Call back", follow_up_due=due),
    )
    assert "follow_up_due" in assert_rejected_on_form(response, "check_in_form")
    assert db_state() == before
