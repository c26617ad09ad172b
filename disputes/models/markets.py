"""Markets and their rules: every version of the rules text and each recorded clarification."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Venue
from portal.models import TimeStampedModel
from portal.revisions import Revision


class Market(TimeStampedModel):
    """A prediction market whose rules disputes are judged by. International markets come from
    Polymarket's Gamma API; US-venue markets (a separate exchange) are entered by hand."""

    class Source(models.TextChoices):
        GAMMA = "gamma", "Imported from Gamma"
        MANUAL = "manual", "Entered by hand"

    venue = models.CharField(max_length=16, choices=Venue.choices, default=Venue.INTERNATIONAL)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.GAMMA)
    # NULL rather than "" for hand-entered markets, so they never collide on the unique constraints.
    gamma_id = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001
    condition_id = models.CharField(max_length=66, null=True, blank=True)  # noqa: DJ001
    question_id = models.CharField(max_length=66, blank=True)
    slug = models.CharField(max_length=255, blank=True)
    question = models.CharField(max_length=500)
    event_title = models.CharField(max_length=500, blank=True)
    event_slug = models.CharField(max_length=255, blank=True)
    event_gamma_id = models.CharField(max_length=20, blank=True)
    group_item_title = models.CharField(max_length=200, blank=True)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    is_closed = models.BooleanField(default=False)
    is_resolved = models.BooleanField(default=False)
    resolved_outcome = models.CharField(max_length=200, blank=True, help_text="An outcome name, or 50-50.")
    outcomes = models.JSONField(default=list, blank=True, help_text='[{"name", "price", "token_id"}]')
    neg_risk = models.BooleanField(default=False)
    uma_status = models.CharField(max_length=20, blank=True)
    uma_history = models.JSONField(default=list, blank=True)
    volume_usd = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    clarification_count = models.PositiveIntegerField(default=0)
    gone_from_gamma_at = models.DateTimeField(
        null=True, blank=True, help_text="When Gamma stopped knowing the market (404); kept as it was then."
    )
    current_version = models.ForeignKey(
        "MarketRuleVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-end_date", "question"]
        constraints = [
            models.UniqueConstraint(fields=["gamma_id"], name="market_gamma_id_unique"),
            models.UniqueConstraint(fields=["condition_id"], name="market_condition_id_unique"),
            models.CheckConstraint(
                condition=Q(source="manual") | Q(gamma_id__isnull=False), name="market_gamma_has_id"
            ),
        ]
        indexes = [
            models.Index(fields=["slug"], name="market_slug_idx"),
            models.Index(fields=["venue", "is_closed"], name="market_venue_closed_idx"),
            models.Index(fields=["uma_status"], name="market_uma_status_idx"),
            models.Index(fields=["-end_date", "question"], name="market_default_order_idx"),
            models.Index(fields=["clarification_count"], name="market_clarifications_idx"),
        ]

    def __str__(self):
        return self.question

    @property
    def polymarket_url(self) -> str:
        if self.source != self.Source.GAMMA:
            return ""
        if self.event_slug and self.event_slug != self.slug:
            return f"https://polymarket.com/event/{self.event_slug}/{self.slug}"
        return f"https://polymarket.com/event/{self.slug}"


class MarketRuleVersion(Revision):
    """The market's rules exactly as they read from `effective_at` until the next version:
    the description, the resolution source and every clarification published so far."""

    parent_field = "market"
    current_field = "current_version"

    class Origin(models.TextChoices):
        GAMMA = "gamma", "Gamma import"
        MANUAL = "manual", "Manual entry"
        CLARIFICATION = "clarification", "Clarification"

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="rule_versions")
    rules_text = models.TextField()
    resolution_source = models.CharField(max_length=500, blank=True)
    clarifications = models.JSONField(
        default=list, blank=True, help_text='[{"text", "source_url", "published_at"}]'
    )
    origin = models.CharField(max_length=14, choices=Origin.choices)
    source_url = models.URLField(max_length=500, blank=True)
    effective_at = models.DateTimeField(help_text="When these rules took effect (or were first seen).")
    content_hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["market", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["market", "number"], name="rule_version_number_unique")
        ]
        indexes = [models.Index(fields=["market", "effective_at"], name="rule_version_effective_idx")]

    def __str__(self):
        return f"{self.market} — rules v{self.number}"

    @property
    def full_text(self) -> str:
        """Everything a dispute is judged by, as one document (what diffs compare)."""
        parts = [self.rules_text.strip()]
        if self.resolution_source:
            parts.append(f"Resolution source: {self.resolution_source}")
        for item in self.clarifications:
            parts.append(
                f"Clarification ({item.get('published_at', '')[:16].replace('T', ' ')} UTC):\n{item['text']}"
            )
        return "\n\n".join(parts)


class Clarification(models.Model):
    """Additional context published after the market opened (often only on-chain, not in the
    description). Recording one creates a new rule version."""

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="clarification_records")
    text = models.TextField()
    source_url = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(MarketRuleVersion, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["published_at", "pk"]

    def __str__(self):
        return f"Clarification of {self.market} at {self.published_at:%Y-%m-%d}"
