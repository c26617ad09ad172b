"""The feedback log: what advanced users ask for or run into, weighed by who asked."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from feedback.waits import wait_band
from portal.models import TimeStampedModel


class ProductArea(models.Model):
    """A part of the product feedback is filed under; the list is Product's to manage."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class FeedbackItem(TimeStampedModel):
    class Category(models.TextChoices):
        BUG = "bug", "Bug"
        FEATURE = "feature", "Feature request"
        USABILITY = "usability", "Usability"
        MARKET_RULES = "market_rules", "Market rules clarity"
        FEES = "fees", "Fees and costs"
        PERFORMANCE = "performance", "Performance"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        BLOCKER = "blocker", "Blocker"
        MAJOR = "major", "Major"
        MINOR = "minor", "Minor"

    class Status(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        SHIPPED = "shipped", "Shipped"
        DECLINED = "declined", "Declined"
        DUPLICATE = "duplicate", "Duplicate"

    class Team(models.TextChoices):
        PRODUCT = "product", "Product"
        ENGINEERING = "engineering", "Engineering"
        LEADERSHIP = "leadership", "Leadership"
        SUPPORT = "support", "Support"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    area = models.ForeignKey(
        ProductArea, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MINOR)
    tracker_url = models.URLField(
        max_length=500, blank=True, help_text="The item in the engineering tracker."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    owner_team = models.CharField(max_length=12, choices=Team.choices, default=Team.PRODUCT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dispute_case = models.ForeignKey(
        "disputes.DisputeCase",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_items",
    )
    intercom_conversation_id = models.CharField(max_length=40, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The first time the status left New, and the first time it became Shipped (kept by
    # feedback.services.item_triage; the reports count and time items by them).
    triaged_at = models.DateTimeField(null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The bands of the waits to those (feedback.waits), kept by the database.
    triage_band = models.GeneratedField(
        expression=wait_band("created_at", "triaged_at"),
        output_field=models.SmallIntegerField(null=True),
        db_persist=True,
    )
    ship_band = models.GeneratedField(
        expression=wait_band("triaged_at", "shipped_at"),
        output_field=models.SmallIntegerField(null=True),
        db_persist=True,
    )
    # Impact, kept by feedback.services.impact_refresh whenever sources, volumes or tiers change.
    impact_accounts = models.PositiveIntegerField(default=0)
    impact_volume_usd = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    impact_score = models.DecimalField(
        max_digits=20, decimal_places=2, default=Decimal("0"), help_text="30-day volume weighted by tier."
    )

    class Meta:
        ordering = ["-impact_score", "-pk"]
        indexes = [
            models.Index(fields=["-impact_score", "-id"], name="feedback_impact_idx"),
            models.Index(fields=["status", "-impact_score"], name="feedback_status_impact_idx"),
            models.Index(fields=["-impact_accounts", "-id"], name="feedback_accounts_idx"),
            models.Index(fields=["created_at"], name="feedback_created_idx"),
            # The reports' rollups: the items changed since their last count; the hours at a
            # period's edges; and for a median, a period's waits of one band, each read from the
            # index alone.
            models.Index(fields=["updated_at"], name="feedback_updated_idx"),
            models.Index(fields=["triaged_at"], include=["created_at"], name="feedback_triaged_idx"),
            models.Index(fields=["shipped_at"], include=["triaged_at"], name="feedback_shipped_idx"),
            models.Index(fields=["triage_band", "triaged_at", "created_at"], name="feedback_triage_band_idx"),
            models.Index(fields=["ship_band", "shipped_at", "triaged_at"], name="feedback_ship_band_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(duplicate_of=models.F("pk")), name="feedback_not_own_duplicate"
            ),
        ]

    def __str__(self):
        return self.title


class FeedbackSource(models.Model):
    """An account that raised the item, with what they said and when."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="sources")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="feedback_sources")
    note = models.CharField(max_length=500, blank=True)
    said_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set when the source was moved here by a merge, so an Admin can undo it.
    merged_from = models.ForeignKey(
        FeedbackItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-said_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["item", "account"], name="feedback_source_once")]
        indexes = [models.Index(fields=["account"], name="feedback_source_account_idx")]

    def __str__(self):
        return f"{self.account} → {self.item}"


class FeedbackComment(models.Model):
    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()
    merged_from = models.ForeignKey(
        FeedbackItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.body[:60]


class FeedbackEvent(models.Model):
    """Append-only history: status, owner, area and merge changes."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    summary = models.CharField(max_length=300)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["item", "at"], name="feedbackevent_item_idx"),
        ]

    def __str__(self):
        return self.summary


class FollowUp(models.Model):
    """A to-do for an account's owner: tell the user their feedback shipped or was declined."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="follow_ups")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_follow_ups"
    )
    outcome = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)  # the reports' rollups count changed ones again
    # The band of the wait from the follow-up's making to the user told (feedback.waits).
    told_band = models.GeneratedField(
        expression=wait_band("created_at", "done_at"),
        output_field=models.SmallIntegerField(null=True),
        db_persist=True,
    )
    check_in = models.ForeignKey(
        "accounts.CheckIn", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "account", "outcome"], name="feedback_follow_up_once")
        ]
        indexes = [
            models.Index(fields=["owner", "done_at"], name="feedback_follow_up_owner_idx"),
            models.Index(fields=["updated_at"], name="feedback_follow_up_updated_idx"),
            models.Index(fields=["done_at"], include=["created_at"], name="feedback_follow_up_done_idx"),
            models.Index(fields=["told_band", "done_at", "created_at"], name="feedback_follow_up_band_idx"),
            # My day: a person's waiting follow-ups, oldest first, without sorting all of them.
            models.Index(
                fields=["owner", "created_at"],
                condition=Q(done_at__isnull=True),
                name="feedback_follow_up_waiting_idx",
            ),
        ]

    def __str__(self):
        return f"Tell {self.account} about {self.item}"


class DigestRun(models.Model):
    """One weekly digest sent (by ISO week), so the schedule never sends a week twice."""

    week = models.CharField(max_length=8, primary_key=True)  # 2026-W48
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.week
