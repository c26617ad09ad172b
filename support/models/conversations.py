"""The mirror of Intercom conversations (what support metrics, account timelines and SLA
tracking read; written only by `support.services.conversation_sync`), and how far the
reconciliation import got."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.models import TimeStampedModel


class Conversation(TimeStampedModel):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        SNOOZED = "snoozed", "Snoozed"

    intercom_id = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    contact_intercom_id = models.CharField(max_length=40, blank=True)
    contact_external_id = models.CharField(max_length=120, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    title = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    priority = models.CharField(max_length=10, blank=True)
    created_at_intercom = models.DateTimeField()
    updated_at_intercom = models.DateTimeField(help_text="Intercom's updated_at: the newest state wins.")
    waiting_since = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    first_admin_reply_at = models.DateTimeField(null=True, blank=True)
    last_admin_reply_at = models.DateTimeField(null=True, blank=True)
    last_contact_reply_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveIntegerField(default=0)
    admin_assignee_id = models.CharField(max_length=40, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team_assignee_id = models.CharField(max_length=40, blank=True)
    tags = models.JSONField(default=list, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_remark = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    sla_name = models.CharField(max_length=200, blank=True)
    sla_status = models.CharField(max_length=20, blank=True)
    statistics = models.JSONField(default=dict, blank=True)
    # Where the newest state came from ("webhook" or "import"), for troubleshooting.
    last_source = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-updated_at_intercom"]
        indexes = [
            models.Index(fields=["account", "-created_at_intercom"], name="conversation_account_idx"),
            models.Index(fields=["updated_at_intercom"], name="conversation_updated_idx"),
            models.Index(fields=["state", "waiting_since"], name="conversation_waiting_idx"),
            # The reports count conversations rated and closed in a period from these alone.
            models.Index(
                fields=["rated_at", "rating", "assignee", "account"],
                condition=Q(rated_at__isnull=False),
                name="conversation_rated_idx",
            ),
            models.Index(
                fields=["closed_at", "assignee"],
                condition=Q(closed_at__isnull=False),
                name="conversation_closed_idx",
            ),
            # The reports' daily rollups find the conversations changed since they last counted.
            models.Index(fields=["updated_at"], name="conversation_changed_idx"),
            # Routing counts each candidate's open conversations.
            models.Index(
                fields=["assignee"], condition=Q(state="open"), name="conversation_open_assignee_idx"
            ),
        ]

    def __str__(self):
        return f"Conversation {self.intercom_id}"


class ImportWatermark(models.Model):
    """How far the reconciliation import got: it only moves past what was stored."""

    name = models.CharField(max_length=40, primary_key=True)
    updated_since = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name}: {self.updated_since:%Y-%m-%d %H:%M}"
