"""What happens with an account: check-ins, its timeline, health history, holdings and imports."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models.book import Account, Channel, Wallet
from portal.models import TimeStampedModel


class CheckIn(TimeStampedModel):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        AD_HOC = "ad_hoc", "Ad hoc"
        INBOUND = "inbound", "Inbound"
        FOLLOW_UP = "follow_up", "Follow-up"
        PROACTIVE = "proactive", "Proactive (a heads-up)"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="check_ins")
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="check_ins"
    )
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SCHEDULED)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.INTERCOM)
    summary = models.TextField()
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    follow_up = models.CharField(max_length=240, blank=True)
    follow_up_due = models.DateField(null=True, blank=True)
    follow_up_done = models.BooleanField(default=False)
    follow_up_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(summary=""),
                name="checkin_summary_required",
                violation_error_message="Write a short summary of what was discussed.",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_due__isnull=True) | ~Q(follow_up=""),
                name="checkin_follow_up_due_needs_text",
                violation_error_message="Describe the follow-up that is due.",
                violation_error_code="follow_up",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="checkin_account_time_idx"),
            # The reports' rollup finds the check-ins changed since it last counted.
            models.Index(fields=["updated_at"], name="checkin_updated_idx"),
            models.Index(
                fields=["specialist", "follow_up_due"],
                condition=Q(follow_up_done=False) & ~Q(follow_up=""),
                name="checkin_open_follow_up_idx",
            ),
            # The reports: check-ins held in a period, by person.
            models.Index(fields=["occurred_at", "specialist"], name="checkin_time_specialist_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} check-in with {self.account} on {self.occurred_at:%Y-%m-%d}"

    @property
    def has_open_follow_up(self) -> bool:
        return bool(self.follow_up) and not self.follow_up_done


class AccountEvent(models.Model):
    """The account's timeline of changes other than check-ins (append-only)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        REASSIGNED = "reassigned", "Reassigned"
        SNOOZED = "snoozed", "Check-in snoozed"
        STATUS = "status", "Status changed"
        WALLET_ADDED = "wallet_added", "Wallet added"
        WALLET_REMOVED = "wallet_removed", "Wallet removed"
        CHECK_IN_EDITED = "check_in_edited", "Check-in edited"
        CHECK_IN_DELETED = "check_in_deleted", "Check-in deleted"
        IMPORTED = "imported", "Imported"
        DISPUTE = "dispute", "Dispute case"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["account", "-at"], name="accountevent_account_time_idx")]

    def __str__(self):
        return f"{self.account}: {self.summary}"


class HealthSnapshot(models.Model):
    """One account's health score on one day (UTC), for the trend."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_history")
    day = models.DateField()
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="healthsnapshot_one_per_day")]

    def __str__(self):
        return f"{self.account_id} {self.day}: {self.score}"


class WalletPortfolio(models.Model):
    """The last positions and value fetched from Polymarket's Data API for one wallet."""

    wallet = models.OneToOneField(Wallet, on_delete=models.CASCADE, related_name="portfolio")
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="When the data shown was fetched.")
    value_usd = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    positions = models.JSONField(default=list, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    synthetic = models.BooleanField(default=False, help_text="Demo data, not fetched from Polymarket.")

    def __str__(self):
        return f"Portfolio of {self.wallet}"


class Exposure(models.Model):
    """One open position of a portfolio wallet in one outcome of a market, as last fetched from
    the Data API (each wallet's refresh replaces its rows): which accounts hold what in each
    market, for the resolution radar. Markets are named by their condition id, the Data API's
    key (the markets themselves belong to disputes)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="exposures")
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="exposures")
    condition_id = models.CharField(max_length=66)
    outcome = models.CharField(max_length=200)
    title = models.CharField(max_length=500, blank=True)
    size = models.DecimalField(max_digits=24, decimal_places=6, help_text="Shares held.")
    current_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    fetched_at = models.DateTimeField(help_text="When the wallet's positions were fetched.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "condition_id", "outcome"], name="exposure_once_per_wallet_outcome"
            )
        ]
        indexes = [
            models.Index(fields=["condition_id", "account"], name="exposure_market_idx"),
            models.Index(fields=["account", "condition_id"], name="exposure_account_idx"),
        ]

    def __str__(self):
        return f"{self.wallet} {self.size} {self.outcome} in {self.condition_id}"


class AccountImport(TimeStampedModel):
    """An uploaded CSV of accounts, imported in the background when large."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=200)
    valid_only = models.BooleanField(
        default=False, help_text="Import the valid rows and skip the invalid ones."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Import of {self.original_name} ({self.get_status_display()})"

    @property
    def percent_done(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
