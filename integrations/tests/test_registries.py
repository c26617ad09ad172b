"""The registries through which other apps plug into integrations: webhook-topic handlers and
contact tag providers."""

import io
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.models import Tier
from accounts.tests.factories import tier
from integrations.intercom import contact_tags, topics
from integrations.intercom.processing import process_event
from integrations.intercom.topics import CONTACT_TOPICS, CONVERSATION_DELETED, CONVERSATION_TOPICS
from integrations.models import WebhookEvent
from integrations.tests.factories import WebhookEventFactory


@pytest.fixture
def handlers(monkeypatch):
    """The topic registry as the apps left it, restored after the test."""
    monkeypatch.setattr(topics, "_handlers", dict(topics._handlers))
    return topics._handlers


def test_every_topic_the_portal_handles_has_its_handler():
    assert {*CONVERSATION_TOPICS, CONVERSATION_DELETED, *CONTACT_TOPICS} <= set(topics._handlers)
    assert topics.topic_handler("ticket.created") is None


@pytest.mark.django_db
def test_a_registered_handler_gets_the_item_and_its_note_is_stored(handlers):
    seen = []

    def ticket_created(item):
        seen.append(item)
        return "noted"

    topics.register_topic_handler("ticket.created", ticket_created)
    event = WebhookEventFactory(topic="ticket.created", item={"type": "ticket", "id": "7"})

    assert process_event(event.pk) == WebhookEvent.Status.PROCESSED
    event.refresh_from_db()
    assert seen == [{"type": "ticket", "id": "7"}]
    assert event.error == "noted"


def test_a_topic_has_one_handler(handlers):
    def another(item):
        return ""

    with pytest.raises(ImproperlyConfigured, match=re.escape(CONVERSATION_DELETED)):
        topics.register_topic_handler(["ticket.created", CONVERSATION_DELETED], another)
    assert topics.topic_handler("ticket.created") is None  # nothing of a refused registration is kept
    # Registering the same handler again (a module imported twice) is fine.
    topics.register_topic_handler(CONVERSATION_DELETED, topics.topic_handler(CONVERSATION_DELETED))


@pytest.mark.django_db
def test_setup_creates_the_tags_the_providers_name_in_their_order(intercom, monkeypatch):
    tier(1)
    Tier.objects.filter(rank=2).update(intercom_tag="")
    tiers = list(Tier.objects.order_by("rank"))
    expected = [t.intercom_tag or f"Advanced: {t.name}" for t in tiers]
    assert contact_tags.contact_tag_names() == expected
    assert expected[1] == f"Advanced: {tiers[1].name}"

    monkeypatch.setattr(contact_tags, "_providers", dict(contact_tags._providers))
    contact_tags.register_contact_tag_provider(lambda: ["Beta tester"], key="test.beta")
    out = io.StringIO()
    call_command("intercom_setup", stdout=out)

    created = [line.removeprefix("created  tag ") for line in out.getvalue().splitlines() if "  tag " in line]
    assert created == [*expected, "Beta tester"]
