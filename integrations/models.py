from django.db import models
from django.db.models import Q

from portal.models import TimeStampedModel


class SyncJob(TimeStampedModel):
    """One change Intercom must learn about (the outbox). See DESIGN.md, "The outbox"."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Dead (retry budget spent)"

    kind = models.CharField(max_length=40)  # contact.upsert, contact.tag, contact.note, ...
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
