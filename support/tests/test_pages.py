"""The mirror on the portal's pages: account timeline, account health and the case page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.health import account_facts
from accounts.models import Account
from accounts.selectors import account_timeline
from accounts.services import health_refresh
from accounts.tests.factories import make_account, make_check_in, specialist_user
from disputes.models import DisputeCase
from disputes.services.cases import dispute_file
from support.registrations import _conversation_ratings
from support.selectors import conversation_url
from support.tests.factories import make_conversation

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def intercom_app(settings):
    settings.INTERCOM_APP_ID = "abc123"
    settings.INTERCOM_REGION = "us"


def inbox_link(intercom_id: str) -> str:
    return f"https://app.intercom.com/a/inbox/abc123/inbox/conversation/{intercom_id}"


# --- deep links --------------------------------------------------------------------------------


def test_deep_link_uses_the_app_id_and_the_region(settings):
    assert conversation_url("215470001") == inbox_link("215470001")
    settings.INTERCOM_REGION = "eu"
    assert (
        conversation_url("215470001")
        == "https://app.eu.intercom.com/a/inbox/abc123/inbox/conversation/215470001"
    )
    assert conversation_url("2154/70001").endswith("/conversation/2154%2F70001")
    settings.INTERCOM_APP_ID = ""  # no address known to open the conversation: no link at all
    assert conversation_url("215470001") == ""


# --- timeline ----------------------------------------------------------------------------------


def test_without_an_app_id_conversations_are_named_not_linked(client, specialist, settings):
    settings.INTERCOM_APP_ID = ""
    account = make_account(owner=specialist)
    make_conversation(account, title="Withdrawal stuck", created_at=timezone.now() - DAY)
    client.force_login(specialist)
    text = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Intercom conversation: Withdrawal stuck" in text
    assert "intercom.com" not in text


def test_conversations_appear_on_the_account_timeline_with_a_deep_link(client, specialist):
    account = make_account(owner=specialist)
    now = timezone.now()
    make_check_in(account, days_ago=3, summary="Checked in about fees.")
    rated = make_conversation(
        account,
        title="Withdrawal stuck",
        state="closed",
        rating=4,
        rated_at=now - DAY,
        assignee=specialist,
        created_at=now - 2 * DAY,
    )
    untitled = make_conversation(account, created_at=now - 5 * DAY)
    make_conversation(make_account(), title="Someone else's conversation")

    client.force_login(specialist)
    text = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()

    assert f'Intercom conversation: <a href="{inbox_link(rated.intercom_id)}"' in text
    assert 'target="_blank">Withdrawal stuck</a>' in text
    assert (
        "rated 4/5" in text and f"assigned to {escape(specialist.display_name)}" in text and "Closed" in text
    )
    assert f'href="{inbox_link(untitled.intercom_id)}"' in text
    assert 'target="_blank">Conversation</a>' in text
    assert "Someone else" not in text
    kinds = [(e["kind"], e.get("conversation")) for e in account_timeline(account)]
    # newest first, merged with check-ins and recorded changes
    order = [k for k in kinds if k[0] in ("conversation", "check_in")]
    assert order == [("conversation", rated), ("check_in", None), ("conversation", untitled)]


def test_the_timeline_is_limited_like_the_rest(specialist):
    account = make_account(owner=specialist)
    now = timezone.now()
    for n in range(5):
        make_conversation(account, created_at=now - n * DAY - dt.timedelta(hours=1))
    entries = account_timeline(account, limit=3)
    assert len(entries) == 3


def test_account_page_query_count_is_constant_with_3_or_60_conversations(
    client, specialist, django_assert_max_num_queries
):
    account = make_account(owner=specialist)
    colleague = specialist_user()
    now = timezone.now()

    def add(n_from, n_to):
        for n in range(n_from, n_to):
            make_conversation(
                account,
                title=f"Question {n}",
                assignee=specialist if n % 2 else colleague,
                rating=(n % 5) + 1 if n % 3 else None,
                rated_at=now - dt.timedelta(hours=n) if n % 3 else None,
                created_at=now - dt.timedelta(hours=n + 1),
            )

    add(0, 3)
    client.force_login(specialist)
    with django_assert_max_num_queries(40) as few:
        first = client.get(reverse("accounts:detail", args=[account.pk]))
    add(3, 60)
    with django_assert_max_num_queries(40) as many:
        second = client.get(reverse("accounts:detail", args=[account.pk]))
    assert first.status_code == second.status_code == 200
    assert second.content.decode().count("Intercom conversation: <a href=") == 60
    assert len(many.captured_queries) == len(few.captured_queries)


# --- health ------------------------------------------------------------------------------------


def test_recent_ratings_move_the_health_score():
    now = timezone.now()
    happy, unhappy, silent = make_account(), make_account(), make_account()
    for rating in (5, 4):
        make_conversation(happy, rating=rating, rated_at=now - 3 * DAY, created_at=now - 4 * DAY)
    for rating in (1, 2):
        make_conversation(unhappy, rating=rating, rated_at=now - 3 * DAY, created_at=now - 4 * DAY)
    # older than 90 days: does not count
    make_conversation(silent, rating=1, rated_at=now - 100 * DAY, created_at=now - 101 * DAY)

    health_refresh(account_ids=[happy.pk, unhappy.pk, silent.pk])
    happy, unhappy, silent = (Account.objects.get(pk=a.pk) for a in (happy, unhappy, silent))

    assert happy.health_components["conversations"] == {
        "label": "Conversation ratings",
        "weight": 15,
        "score": 88,
        "detail": "avg rating 4.5 from 2 conversations (90 days)",
    }
    assert unhappy.health_components["conversations"]["score"] == 12
    assert unhappy.health_score < happy.health_score
    # no recent rating: left out of the mean rather than counted as neutral or bad
    assert silent.health_components["conversations"]["score"] is None
    assert silent.health_components["conversations"]["detail"] == "No data"
    others = {k: v for k, v in silent.health_components.items() if v["score"] is not None}
    expected = sum(v["score"] * v["weight"] for v in others.values()) / sum(
        v["weight"] for v in others.values()
    )
    assert silent.health_score == round(expected)


def test_the_ratings_component_is_one_query_for_any_number_of_accounts(django_assert_num_queries):
    now = timezone.now()
    accounts = [make_account() for _ in range(4)]
    for n, account in enumerate(accounts):
        make_conversation(account, rating=n + 1, rated_at=now - DAY, created_at=now - 2 * DAY)
    facts = account_facts([a.pk for a in accounts])
    with django_assert_num_queries(1):
        scores = _conversation_ratings(facts, now)
    assert [scores[a.pk].score for a in accounts] == [0, 25, 50, 75]
    assert scores[accounts[0].pk].detail == "avg rating 1.0 from 1 conversation (90 days)"


# --- case page ---------------------------------------------------------------------------------


def _case(owner, intercom_id=""):
    return dispute_file(
        by=owner,
        account=make_account(owner=owner),
        category=DisputeCase.Category.ORDER_EXECUTION,
        claim="My order filled at the wrong price.",
        intercom_conversation_id=intercom_id,
    )


def test_case_page_shows_its_mirrored_conversation(client, specialist, django_assert_max_num_queries):
    now = timezone.now()
    conversation = make_conversation(
        title="Order filled at the wrong price",
        state="open",
        assignee=specialist,
        rating=2,
        rated_at=now - DAY,
        waiting_since=now - dt.timedelta(hours=3),
        created_at=now - 2 * DAY,
    )
    case = _case(specialist, conversation.intercom_id)
    client.force_login(specialist)
    with django_assert_max_num_queries(25):
        text = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    block = text[text.index('class="linked-conversation"') :]
    block = block[: block.index("</dd>")]
    assert f'href="{inbox_link(conversation.intercom_id)}"' in block
    assert "Order filled at the wrong price" in block
    assert (
        "Open" in block and f"assigned to {escape(specialist.display_name)}" in block and "rated 2/5" in block
    )
    waiting = timezone.localtime(conversation.waiting_since)
    assert f"waiting since {waiting:%a} {waiting.day} {waiting:%b %Y, %H:%M}" in block


def test_case_page_links_a_conversation_not_mirrored_yet(client, specialist):
    case = _case(specialist, "215470999")
    client.force_login(specialist)
    text = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert f'href="{inbox_link("215470999")}"' in text
    assert "<code>215470999</code>" in text and "not synced from Intercom yet" in text


def test_case_page_without_a_conversation_has_no_intercom_block(client, specialist):
    case = _case(specialist)
    client.force_login(specialist)
    text = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert "linked-conversation" not in text and "app.intercom.com" not in text
