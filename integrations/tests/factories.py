"""Factories for the Intercom tables: rows a test needs to exist, however they came about.
Jobs a change of the portal records go through `integrations.outbox.outbox_record` instead, and
notifications Intercom delivers through the webhook (see test_webhooks.py)."""

import datetime as dt

import factory
from django.utils import timezone

from integrations.intercom.processing import WEBHOOK_DRAIN
from integrations.models import DrainRequest, IntercomAdmin, IntercomContact, SyncJob, WebhookEvent
from integrations.outbox import payload_hash


class SyncJobFactory(factory.django.DjangoModelFactory):
    """An outbox job; `SyncJobFactory(dead=True)` is one whose retry budget is spent."""

    class Meta:
        model = SyncJob

    class Params:
        dead = factory.Trait(
            status=SyncJob.Status.DEAD,
            attempts=12,
            failing_since=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=25)),
            last_error="HTTP 500 from Intercom",
        )

    kind = SyncJob.Kind.CONTACT_UPSERT
    key = factory.Sequence(lambda n: f"account:{n}")
    payload = factory.LazyAttribute(lambda job: {"key": job.key})
    payload_hash = factory.LazyAttribute(lambda job: payload_hash(job.payload))
    status = SyncJob.Status.PENDING


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A stored notification still waiting for the drain. Pass `item` (an Intercom object) for the
    notification to carry it, or a whole `payload`."""

    class Meta:
        model = WebhookEvent

    class Params:
        item = factory.Dict({"type": "ticket", "id": "1"})

    notification_id = factory.Sequence(lambda n: f"notif_factory_{n}")
    topic = "conversation.user.replied"
    payload = factory.LazyAttribute(
        lambda event: {
            "type": "notification_event",
            "id": event.notification_id,
            "topic": event.topic,
            "data": {"type": "notification_event_data", "item": event.item},
        }
    )
    status = WebhookEvent.Status.RECEIVED


class DrainRequestFactory(factory.django.DjangoModelFactory):
    """The flag saying whether a webhook drain task is queued and has not started yet."""

    class Meta:
        model = DrainRequest
        django_get_or_create = ("name",)

    name = WEBHOOK_DRAIN
    queued = False


class IntercomAdminFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntercomAdmin

    intercom_id = factory.Sequence(lambda n: str(993000000 + n))
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"teammate{n}@example.com")
    synced_at = factory.LazyFunction(timezone.now)


class IntercomContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntercomContact

    external_id = factory.Sequence(lambda n: f"contact-{n}")
    intercom_id = factory.Sequence(lambda n: f"{0xC0FFEE000000 + n:024x}")
    synced_at = factory.LazyFunction(timezone.now)
