"""Playbooks (versioned Markdown) and response templates (versioned, sandbox-rendered text)."""

import datetime as dt

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import TimeStampedModel
from portal.revisions import Revision


class PlaybookQuerySet(models.QuerySet):
    """`stale()` and `Playbook.is_stale` are the one definition of a stale playbook: its review date
    has passed and it is still in use. An archived playbook is kept for the record and never
    reviewed again, so it is never stale. The two say the same thing, for the database and for a
    loaded row; change them together."""

    def stale(self, today: dt.date | None = None) -> "PlaybookQuerySet":
        return self.filter(self._stale(today))

    def up_to_date(self, today: dt.date | None = None) -> "PlaybookQuerySet":
        return self.exclude(self._stale(today))

    @staticmethod
    def _stale(today: dt.date | None) -> Q:
        return Q(next_review_on__lt=today or timezone.localdate()) & ~Q(status=Playbook.Status.ARCHIVED)


class Playbook(TimeStampedModel):
    class Category(models.TextChoices):
        COMMUNICATION = "communication", "Communication standards"
        ESCALATION = "escalation", "Escalation pathway"
        DISPUTE_RESPONSE = "dispute_response", "Dispute response"
        CHECK_IN = "check_in", "Check-in script"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="playbooks")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    review_interval_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    next_review_on = models.DateField()
    # The newest revision, kept here so lists and search never scan the revisions.
    current_revision = models.ForeignKey(
        "PlaybookRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revision_count = models.PositiveIntegerField(default=0)
    current_body = models.TextField(blank=True, help_text="Copy of the current revision's text, for search.")
    # Filled on PostgreSQL only (title weighted above the text); its GIN index exists only there.
    search_vector = SearchVectorField(null=True, blank=True)

    objects = PlaybookQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [
            models.Index(fields=["status", "category"], name="playbook_status_category_idx"),
            models.Index(fields=["owner", "next_review_on"], name="playbook_owner_review_idx"),
            models.Index(fields=["next_review_on"], name="playbook_review_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_stale(self) -> bool:
        """Past its review date and not archived; the same rule as `PlaybookQuerySet.stale`."""
        return self.status != self.Status.ARCHIVED and self.next_review_on < timezone.localdate()


class PlaybookRevision(Revision):
    """One saved text of a playbook; never changed once written."""

    parent_field = "playbook"
    current_field = "current_revision"
    counter_field = "revision_count"

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    summary = models.CharField(max_length=300, help_text="What changed and why.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    reverted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["playbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="playbook_revision_number_unique")
        ]

    def __str__(self):
        return f"{self.playbook} r{self.number}"


class ResponseTemplate(TimeStampedModel):
    class Serves(models.TextChoices):
        DISPUTE_MARKET_RESOLUTION = "market_resolution", "Dispute: market resolution"
        DISPUTE_ORDER_EXECUTION = "order_execution", "Dispute: order execution"
        DISPUTE_PLATFORM_MECHANICS = "platform_mechanics", "Dispute: platform mechanics"
        CHECK_IN = "check_in", "Check-in"
        ESCALATION = "escalation", "Escalation"
        FEEDBACK_FOLLOW_UP = "feedback_follow_up", "Feedback follow-up"

    name = models.CharField(max_length=200)
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="templates")
    serves = models.CharField(max_length=24, choices=Serves.choices)
    is_active = models.BooleanField(default=True, help_text="Offered on case and check-in pages.")
    current_revision = models.ForeignKey(
        "TemplateRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revision_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["serves", "is_active"], name="template_serves_idx")]
        constraints = [models.UniqueConstraint(fields=["name"], name="template_name_unique")]

    def __str__(self):
        return self.name


class TemplateRevision(Revision):
    """One saved subject and body of a response template; never changed once written."""

    parent_field = "template"
    current_field = "current_revision"
    counter_field = "revision_count"

    template = models.ForeignKey(ResponseTemplate, on_delete=models.CASCADE, related_name="revisions")
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    summary = models.CharField(max_length=300)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    reverted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_revision_number_unique")
        ]

    def __str__(self):
        return f"{self.template} r{self.number}"


class TemplateUse(models.Model):
    """The text a specialist actually used, with the template version it was drafted from, so a
    later reader knows which version of the standard was applied."""

    class Subject(models.TextChoices):
        DISPUTE_CASE = "dispute_case", "Dispute case"
        CHECK_IN = "check_in", "Check-in"

    revision = models.ForeignKey(TemplateRevision, on_delete=models.PROTECT, related_name="uses")
    subject_kind = models.CharField(max_length=16, choices=Subject.choices)
    # A case reference or a check-in id: the apps that use templates depend on this one, not
    # the other way round.
    subject_ref = models.CharField(max_length=40)
    rendered_subject = models.CharField(max_length=300, blank=True)
    rendered_body = models.TextField()
    edited = models.BooleanField(default=False, help_text="The specialist changed the drafted text.")
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    used_at = models.DateTimeField()

    class Meta:
        ordering = ["-used_at", "-pk"]
        indexes = [models.Index(fields=["subject_kind", "subject_ref"], name="templateuse_subject_idx")]

    def __str__(self):
        return f"{self.revision} → {self.subject_kind} {self.subject_ref}"
