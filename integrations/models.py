from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import TimeStampedModel


class SyncJob(TimeStampedModel):
    """One change Intercom must learn about (the outbox). See DESIGN.md, "The outbox"."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Dead (retry budget spent)"

    class Kind(models.TextChoices):
        """What the sender does with the job (integrations/intercom/sender/). Labelled by the
        code itself: that is what the sync page, the admin and the error messages show."""

        CONTACT_UPSERT = "contact.upsert", "contact.upsert"  # key account:<id>
        CONTACT_ATTRIBUTES = "contact.attributes", "contact.attributes"  # e.g. account:<id>:disputes
        CONTACT_NOTE = "contact.note", "contact.note"  # e.g. decision:<id>
        CONVERSATION_REPLY = "conversation.reply", "conversation.reply"  # reply:<template use id>
        CONTACT_MESSAGE = "contact.message", "contact.message"  # heads-up:<id>:account:<id>
        CONVERSATION_ASSIGN = "conversation.assign", "conversation.assign"  # conversation:<intercom id>

    kind = models.CharField(max_length=40, choices=Kind.choices)
    key = models.CharField(max_length=80)  # the object: account:42
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Hash of the payload Intercom last acknowledged for this kind and key; a job whose payload
    # hash equals it is done without a call.
    last_delivered_hash = models.CharField(max_length=64, blank=True)
    # Which Intercom contact the job is about (its external id): jobs for one contact are
    # delivered in the order they were recorded.
    contact_key = models.CharField(max_length=120, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it (lease).")
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure of the current run.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=Q(status="pending"),
                name="syncjob_one_pending_per_object",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="syncjob_due_idx"),
            models.Index(fields=["kind", "key", "-updated_at"], name="syncjob_object_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.key} ({self.status})"


class RateBudget(models.Model):
    """Calls left in the current rate-limit window of an API, shared by every worker process
    (a row in the database, locked while a call is counted), so the cluster as a whole stays
    under the limit."""

    name = models.CharField(max_length=40, primary_key=True)
    window_ends_at = models.FloatField(default=0.0, help_text="Epoch seconds.")
    remaining = models.IntegerField(default=0)
    limit = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.name}: {self.remaining}/{self.limit}"


class DrainRequest(models.Model):
    """Whether a task that drains a queue of stored work (say the webhook notifications) is queued
    and has not started yet. A burst of notifications then queues one task rather than one each;
    the task clears the flag before it reads what waits, so nothing stored is left behind."""

    name = models.CharField(max_length=40, primary_key=True)
    queued = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name}: {'queued' if self.queued else 'idle'}"


class IntercomAdmin(models.Model):
    """An Intercom teammate, and the portal user they are (matched by e-mail; editable)."""

    intercom_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    portal_user = models.OneToOneField(
        "portal.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="intercom_admin"
    )
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name or self.email} ({self.intercom_id})"


class IntercomContact(models.Model):
    """Which Intercom contact holds an account (by the portal's external id), so the sender
    updates it directly instead of looking it up, and which tier tag it last applied."""

    external_id = models.CharField(max_length=120, unique=True)
    intercom_id = models.CharField(max_length=40, unique=True)
    tier_tag_id = models.CharField(max_length=40, blank=True)
    synced_at = models.DateTimeField()

    def __str__(self):
        return f"{self.external_id} → {self.intercom_id}"


class WebhookEvent(models.Model):
    """One notification Intercom delivered to the webhook, stored once (unique by its id) before
    it is answered, then processed by a task. See integrations/intercom/webhooks.py."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received (waiting for the worker)"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (topic not handled)"
        FAILED = "failed", "Failed"

    notification_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=80)
    app_id = models.CharField(max_length=100, blank=True)
    created_at_intercom = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    delivery_attempts = models.PositiveIntegerField(default=1)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        # Declared here rather than with unique=True / db_index=True: on PostgreSQL those add a
        # second, LIKE-only index per column, which every insert (the hot path) would maintain.
        constraints = [
            models.UniqueConstraint(fields=["notification_id"], name="webhookevent_notification_unique")
        ]
        indexes = [
            models.Index(fields=["topic"], name="webhookevent_topic_idx"),
            models.Index(fields=["status", "received_at"], name="webhookevent_status_idx"),
        ]

    def __str__(self):
        return f"{self.topic} {self.notification_id} ({self.status})"
