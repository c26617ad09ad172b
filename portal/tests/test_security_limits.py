"""Abuse and limits: each attack run through the test client as the person who would try it."""

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account, make_check_in
from feedback import services as feedback_services
from feedback.models import FollowUp
from portal.roles import Role
from portal.tests.factories import UserFactory
from portal.tests.test_access_roles import PAGES, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # the factories' password

OFF_SITE = [
    "/\\evil.example",
    "//evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "http:///evil.example",
]


# --- Sign-in throttling --------------------------------------------------------------------


def sign_in(client, username, password, forwarded_for=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.fixture
def behind_one_proxy(settings):
    """The client addresses settings.py derives from TRUSTED_PROXY_COUNT=1 (or
    TLS_TERMINATED_BY_PROXY=true); portal/tests/test_settings.py checks that derivation."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", roles=[Role.SPECIALIST])


def test_behind_a_proxy_a_locked_out_client_does_not_lock_out_another(
    client, ana, settings, behind_one_proxy
):
    """Everyone reaches the portal from the proxy's address: an attacker guessing ana's password
    must not lock ana herself out."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ana", "guess", forwarded_for="198.51.100.66")
    assert sign_in(client, "ana", PASSWORD, forwarded_for="198.51.100.66").status_code == 429

    response = sign_in(client, "ana", PASSWORD, forwarded_for="203.0.113.10")

    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_behind_a_proxy_entries_a_client_adds_to_the_header_are_ignored(
    client, ana, settings, behind_one_proxy
):
    """The proxy appends the address it saw; what the client put on the left is its own say."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ana", "guess", forwarded_for=f"192.0.2.{n}, 198.51.100.66")
    response = sign_in(client, "ana", PASSWORD, forwarded_for="203.0.113.10, 198.51.100.66")
    assert response.status_code == 429


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_a_lockout(client, ana, settings):
    # What settings.py derives from TRUSTED_PROXY_COUNT=0, the default.
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    settings.AXES_IPWARE_PROXY_COUNT = None
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ana", "guess", forwarded_for=f"192.0.2.{n}")

    response = sign_in(client, "ana", PASSWORD, forwarded_for="203.0.113.99")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_password_tried_against_many_usernames_locks_the_address(client, ana, settings):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        assert sign_in(client, f"user{n}", "Summer2026!").status_code == 200
    assert sign_in(client, "user-last", "Summer2026!").status_code == 429  # the limit reached

    response = sign_in(client, "ana", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_office_behind_one_address_survives_a_few_typos_each(client, ana, settings):
    people = [UserFactory(username=f"colleague{n}", roles=[Role.SPECIALIST]) for n in range(6)]
    for person in people:  # one typo each: more than the per-username limit in all
        sign_in(client, person.username, "typo")
    for person in people:
        assert sign_in(client, person.username, PASSWORD).status_code == 302
        client.logout()


def test_a_colleagues_sign_in_does_not_wipe_the_addresss_failures(client, ana, settings):
    """A valid password of one's own must not reset the count of guesses at everyone else's."""
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        sign_in(client, f"user{n}", "Summer2026!")
    assert sign_in(client, "ana", PASSWORD).status_code == 302
    client.logout()

    sign_in(client, "user-last", "Summer2026!")

    assert sign_in(client, "ana", PASSWORD).status_code == 429


# --- Return addresses (`next`) ---------------------------------------------------------------


@pytest.fixture
def shipped_follow_up(specialist, product_person):
    """The follow-up a specialist gets when an item one of their accounts raised ships."""
    account = make_account(owner=specialist)
    item = feedback_services.feedback_create(
        by=specialist, title="Export trades", category="fees", account=account
    )
    feedback_services.item_triage(item=item, by=product_person, status="shipped")
    return FollowUp.objects.get(item=item)


@pytest.mark.parametrize("target", OFF_SITE)
def test_feedback_follow_up_never_sends_a_specialist_off_site(client, specialist, shipped_follow_up, target):
    client.force_login(specialist)

    response = client.post(reverse("feedback:follow_up_done", args=[shipped_follow_up.pk]), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_feedback_follow_up_returns_to_a_page_of_the_portal(client, specialist, shipped_follow_up):
    client.force_login(specialist)

    response = client.post(
        reverse("feedback:follow_up_done", args=[shipped_follow_up.pk]), {"next": "/feedback/?q=x"}
    )

    assert response["Location"] == "/feedback/?q=x"


@pytest.mark.parametrize("target", OFF_SITE)
def test_account_follow_up_and_reassign_never_send_a_specialist_off_site(client, specialist, target):
    account = make_account(owner=specialist)
    check_in = make_check_in(account, follow_up="Send the rules", follow_up_due=timezone.now().date())
    client.force_login(specialist)

    done = client.post(reverse("accounts:follow_up_done", args=[check_in.pk]), {"next": target})
    reassigned = client.post(reverse("accounts:reassign"), {"next": target})

    assert done["Location"] == reverse("accounts:detail", args=[account.pk])
    assert reassigned["Location"] == reverse("accounts:list")


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_sends_a_person_off_site(client, target):
    UserFactory(username="ana", roles=[Role.SPECIALIST])

    response = client.post(
        reverse("login") + "?next=x", {"username": "ana", "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_over_https_a_plain_http_address_on_our_own_host_is_refused(rf):
    from portal.redirects import next_url

    request = rf.post("/", {"next": "http://testserver/accounts/"}, secure=True)
    assert next_url(request, default="/") == "/"
    request = rf.post("/", {"next": "https://testserver/accounts/"}, secure=True)
    assert next_url(request, default="/") == "https://testserver/accounts/"


# --- Wallet fetches queued by page views ---------------------------------------------------


def test_twenty_views_of_an_account_queue_one_wallet_fetch(
    client, specialist, django_capture_on_commit_callbacks, monkeypatch
):
    """A specialist (or a script with their session) reloading the account page while the worker
    is busy must not fill the task queue with copies of the same fetch."""
    queued = []
    monkeypatch.setattr("accounts.wallet_panel.async_task", lambda *args, **kwargs: queued.append(args))
    account = make_account(owner=specialist, wallets=["0x7c3db723f1d4d8cb9c550095203b686cb11e5c6b"])
    client.force_login(specialist)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200

    assert queued == [("accounts.tasks.wallet_portfolios_refresh", account.pk)]


# --- Request bodies ------------------------------------------------------------------------

MB = 1024 * 1024


class Unreadable:
    """A request body that must not be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def post_unread(client, path, length, content_type="multipart/form-data; boundary=x", **extra):
    return client.generic(
        "POST", path, b"", CONTENT_LENGTH=str(length), CONTENT_TYPE=content_type,
        **{"wsgi.input": Unreadable()}, **extra,
    )  # fmt: skip


def test_an_anonymous_upload_too_large_is_refused_before_the_form_is_parsed():
    """Anyone can get a CSRF cookie from the sign-in page; with it, CSRF parsed a 1 GB form (to
    find the token) before the sign-in check ever ran."""
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))

    response = post_unread(client, reverse("accounts:import"), 1024 * MB, HTTP_ACCEPT="text/html")

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()


def test_an_oversized_evidence_upload_by_a_specialist_is_refused_unread(client, specialist, settings):
    client.force_login(specialist)
    length = settings.DISPUTE_EVIDENCE_MAX_MB * MB + 2 * MB

    response = post_unread(client, "/disputes/DSP-2026-1/evidence/", length)

    assert response.status_code == 413


def test_an_oversized_webhook_is_refused_with_json_before_its_signature_is_checked(client):
    response = post_unread(client, reverse("integrations:intercom_webhook"), 64 * MB, "application/json")

    assert response.status_code == 413
    assert "too large" in response.json()["error"]


def test_a_chunked_body_cannot_slip_past_the_limit(client):
    response = client.generic(
        "POST", reverse("login"), b"", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": Unreadable()}
    )

    assert response.status_code == 411


def test_a_body_within_the_limit_goes_through_and_one_byte_more_does_not(client, settings):
    UserFactory(username="ana", roles=[Role.SPECIALIST])
    body = urlencode({"username": "ana", "password": PASSWORD})
    form = "application/x-www-form-urlencoded"
    settings.REQUEST_BODY_MAX_BYTES = len(body)

    assert client.post(reverse("login"), body, content_type=form).status_code == 302
    client.logout()
    settings.REQUEST_BODY_MAX_BYTES -= 1
    assert client.post(reverse("login"), body, content_type=form).status_code == 413


def test_the_limit_covers_every_upload_the_portal_accepts(settings):
    uploads = [5 * MB, settings.DISPUTE_EVIDENCE_MAX_MB * MB, settings.INTERCOM_WEBHOOK_MAX_BYTES]
    largest = max(uploads) + 64 * 1024  # with room for the other fields of the form
    assert largest <= settings.REQUEST_BODY_MAX_BYTES
    webhook = settings.INTERCOM_WEBHOOK_MAX_BYTES  # read whole into memory
    assert webhook <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


# --- Content-Security-Policy -----------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PAGE_TEMPLATES = sorted(
    path
    for path in TEMPLATES.rglob("*.html")
    # E-mails are not pages: mail clients need inline styles and never run scripts.
    if "email" not in path.parent.name and not path.name.endswith("_email.html")
)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def assert_tight_policy(response, label):
    policy = directives(response)
    assert policy["script-src"] == ["'self'"], label
    assert policy["style-src"] == ["'self'"], label
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], label
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"], label


GET_PAGES = sorted(
    name for name, page in PAGES.items() if page.method == "get" and 200 in page.expected.values()
)


@pytest.mark.parametrize("url_name", GET_PAGES)
def test_every_page_carries_a_policy_that_runs_no_injected_script(client, people, request, url_name):
    objects = request.getfixturevalue("world")  # the objects of the role table's pages
    page = PAGES[url_name]
    role = next(role for role, status in page.expected.items() if status == 200)
    client.force_login(people[role])
    response = client.get(reverse(url_name, args=[objects[name] for name in page.args]), page.data)
    assert response.status_code == 200
    if url_name == "disputes:evidence_file":
        # The file view's own, stricter policy is kept, not replaced.
        assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
        return
    assert_tight_policy(response, url_name)


@pytest.mark.parametrize(
    "path", ["/login/", "/password/reset/", "/healthz", "/admin/login/", "/no-such-page/"]
)
def test_pages_for_anonymous_visitors_and_errors_carry_the_policy(client, path):
    assert_tight_policy(client.get(path), path)


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/accounts/account/", "/admin/accounts/tier/add/", "/admin/axes/accessattempt/"]
)
def test_the_django_admin_works_under_the_same_policy(client, portal_admin, path):
    client.force_login(portal_admin)
    response = client.get(path)
    assert response.status_code == 200
    assert_tight_policy(response, path)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())


INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b(?![^>]*\bnonce=)|<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_has_inline_scripts_handlers_or_styles(template):
    text = template.read_text()
    for name, pattern in [
        ("inline event handler", INLINE_HANDLER),
        ("inline <script> without a nonce", INLINE_SCRIPT),
        ("inline style", INLINE_STYLE),
        ("javascript: URL", SCRIPT_URL),
    ]:
        found = pattern.search(text)
        assert not found, f"{name}: {found.group(0)!r}"


def test_the_template_check_catches_what_it_looks_for():
    assert INLINE_HANDLER.search('<button class="x" onclick="go()">')
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/copy.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script nonce="{{ request.csp_nonce }}">')
    assert INLINE_STYLE.search('<p style="color: red">') and INLINE_STYLE.search("<style>p{}</style>")
    assert SCRIPT_URL.search('<a href="javascript:alert(1)">')
