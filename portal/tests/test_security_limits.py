"""Abuse and limits: each attack run through the test client as the person who would try it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account, make_check_in
from feedback import services as feedback_services
from feedback.models import FollowUp
from portal.roles import Role
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # the factories' password

OFF_SITE = [
    "/\\evil.example",
    "//evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "http:///evil.example",
]


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
