"""Demo conversations (`seed_demo --conversations N`): the mirror as an import leaves it."""

import pytest
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Account
from portal.tests.seeding import seed
from support.models import Conversation

pytestmark = pytest.mark.django_db
# No reports history: these tests count the conversations they ask for.
SMALL = (
    "--accounts", "20", "--markets", "0", "--disputes", "0", "--feedback", "0",
    "--history-conversations", "0", "--history-escalations", "0",
)  # fmt: skip


def test_seeds_conversations_linked_to_accounts_and_counted_as_contact(client):
    out = seed("--seed", "3", *SMALL, "--conversations", "60")
    assert "Intercom conversations: 60" in out
    conversations = Conversation.objects.all()
    assert conversations.count() == 60 and not conversations.filter(account=None).exists()
    assert {c.state for c in conversations} >= {"open", "closed"}
    rated = conversations.exclude(rating=None)
    assert rated.exists() and all(c.state == "closed" and 1 <= c.rating <= 5 for c in rated)
    assert all(c.waiting_since for c in conversations.filter(state="open"))
    assert all(c.last_source == "import" for c in conversations)
    # Each counts as contact, and ratings weigh on health.
    account = rated.first().account
    assert (
        account.last_contact_at is not None and account.last_contact_at >= rated.first().created_at_intercom
    )
    assert "conversations" in Account.objects.get(pk=account.pk).health_components

    client.force_login(account.owner)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert account.conversations.order_by("-updated_at_intercom").first().title in page


def test_same_seed_same_conversations_and_none_without_accounts():
    seed("--seed", "3", *SMALL, "--conversations", "10")
    first = list(Conversation.objects.order_by("intercom_id").values_list("intercom_id", "title", "state"))
    seed("--force", "--seed", "3", *SMALL, "--conversations", "10")
    assert (
        list(Conversation.objects.order_by("intercom_id").values_list("intercom_id", "title", "state"))
        == first
    )
    seed("--force", "--accounts", "0", "--markets", "0", "--disputes", "0", "--conversations", "10")
    assert not Conversation.objects.exists()


def test_a_negative_count_is_refused():
    with pytest.raises(CommandError, match="--conversations must be 0 or more"):
        seed("--conversations", "-1")


def test_by_default_four_conversations_per_three_accounts_at_most_400():
    seed(*SMALL)
    assert Conversation.objects.count() == 20 * 4 // 3


def test_seeding_again_keeps_the_sla_policies_and_gives_open_items_clocks():
    from support.models import SlaClock, SlaPolicy

    seed("--seed", "3", *SMALL, "--conversations", "30")
    seed("--force", "--seed", "3", *SMALL, "--conversations", "30")  # the flush removed the defaults
    assert SlaPolicy.objects.filter(kinds=[]).exists() and SlaPolicy.objects.count() > 3
    open_conversations = Conversation.objects.exclude(state="closed")
    assert open_conversations.exists()
    assert not open_conversations.exclude(pk__in=SlaClock.objects.values("conversation")).exists()


def test_open_items_fill_the_queue_with_conversations_and_cases_each_shown_once(client):
    from disputes.models import DisputeCase
    from portal.models import User
    from support.models import SlaClock

    out = seed("--seed", "3", *SMALL, "--conversations", "0", "--open-items", "40")

    assert "open items added: 30 conversations and 10 cases" in out
    conversations = Conversation.objects.all()
    assert conversations.count() == 30 and not conversations.filter(state="closed").exists()
    assert DisputeCase.objects.open().count() == 10
    heads = SlaClock.objects.filter(queue_rank__isnull=False)
    assert heads.filter(conversation__isnull=False).count() == 30
    assert heads.filter(case__isnull=False).count() == 10
    assert heads.values("conversation", "case").distinct().count() == 40
    specialist = User.objects.get(username="specialist")
    assert Conversation.objects.filter(assignee__isnull=False).exists()
    assert Conversation.objects.filter(assignee__isnull=True).exists()

    client.force_login(User.objects.get(username="admin"))
    page = client.get(reverse("support:queue"), {"per_page": 100}).content.decode()
    assert page.count("</tr>") - 1 == 40
    client.force_login(specialist)
    mine = client.get(reverse("support:queue")).content.decode()
    assert (
        mine.count("</tr>") - 1
        == heads.filter(conversation__assignee=specialist).count()
        + heads.filter(case__assignee=specialist).count()
    )


def test_a_negative_number_of_open_items_is_refused():
    with pytest.raises(CommandError, match="--open-items must be 0 or more"):
        seed("--open-items", "-1")
