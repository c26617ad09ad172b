"""Dispute cases: the case file, its numbering and its append-only history."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Venue, venue_currency
from disputes.models.markets import Market, MarketRuleVersion
from portal.models import TimeStampedModel


class CaseCounter(models.Model):
    """The last case number handed out in a year; locked while a case is filed, so two people
    filing at once get consecutive numbers on SQLite and PostgreSQL alike."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class DisputeCaseQuerySet(models.QuerySet):
    def open(self):
        """Cases still being worked: not decided and not closed."""
        return self.filter(status__in=DisputeCase.OPEN_STATUSES)


class DisputeCase(TimeStampedModel):
    class Category(models.TextChoices):
        MARKET_RESOLUTION = "market_resolution", "Market resolution"
        ORDER_EXECUTION = "order_execution", "Order execution"
        PLATFORM_MECHANICS = "platform_mechanics", "Platform mechanics"

    class Status(models.TextChoices):
        NEW = "new", "New"
        INVESTIGATING = "investigating", "Investigating"
        WAITING_ON_USER = "waiting_on_user", "Waiting on user"
        ESCALATED = "escalated", "Escalated"
        DECIDED = "decided", "Decided"
        CLOSED = "closed", "Closed"

    # The one definition of an open case: every panel, count, filter and health fact uses it.
    OPEN_STATUSES = (Status.NEW, Status.INVESTIGATING, Status.WAITING_ON_USER, Status.ESCALATED)

    class Priority(models.TextChoices):
        URGENT = "urgent", "Urgent"
        HIGH = "high", "High"
        NORMAL = "normal", "Normal"
        LOW = "low", "Low"

    reference = models.CharField(max_length=20, unique=True)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="dispute_cases")
    category = models.CharField(max_length=20, choices=Category.choices)
    market = models.ForeignKey(Market, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    rule_version = models.ForeignKey(
        MarketRuleVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The market's rules in force when the case was filed.",
    )
    heads_up = models.ForeignKey(
        "disputes.HeadsUp",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        help_text="The radar's heads-up about this market to the account's owner that came before the case.",
    )
    venue = models.CharField(max_length=16, choices=Venue.choices)
    claim = models.TextField()
    requested_remedy = models.TextField(blank=True)
    amount_at_stake = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    intercom_conversation_id = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    first_response_due = models.DateTimeField()
    resolution_due = models.DateTimeField()
    first_responded_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Bumped by every change; a form posts the revision it was opened at, and a change made
    # against an older revision is refused instead of overwriting someone else's.
    revision = models.PositiveIntegerField(default=1)

    objects = DisputeCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="case_year_number_unique"),
            models.CheckConstraint(condition=Q(amount_at_stake__gte=0), name="case_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(category="market_resolution")
                | Q(market__isnull=False, rule_version__isnull=False),
                name="case_resolution_has_market_rules",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "resolution_due"], name="case_status_due_idx"),
            models.Index(fields=["assignee", "status", "resolution_due"], name="case_assignee_due_idx"),
            # My day's open cases: one person's, most urgent first, without reading anyone else's
            # (the statuses are OPEN_STATUSES, which the class body cannot name here).
            models.Index(
                fields=["assignee", "resolution_due"],
                condition=Q(status__in=["new", "investigating", "waiting_on_user", "escalated"]),
                name="case_open_assignee_due_idx",
            ),
            # A Specialist's own report: their cases' ids from the index alone (the decisions of
            # a period joined to them; the heap read of 40,000 cases took 80 ms at 500,000).
            models.Index(fields=["assignee", "id"], name="case_assignee_ids_idx"),
            models.Index(fields=["first_response_due"], name="case_first_response_due_idx"),
            # The case list's default order.
            models.Index(fields=["resolution_due"], name="case_resolution_due_idx"),
            models.Index(fields=["market", "status"], name="case_market_status_idx"),
            # A word search's page: the cases of the matching accounts, and of the matching
            # markets, ranked and ordered from these alone (an index-only scan each), without
            # reading every matching case's row (disputes.selectors.cases.RankedCases).
            # The other's id is a key column, not an INCLUDE, which SQLite ignores: there too the
            # halves and their rank are read from the index alone (q=ju 212 -> 68 ms at 500,000).
            models.Index(
                fields=["account", "year", "number", "market"], include=["id"], name="case_account_newest_idx"
            ),
            models.Index(
                fields=["market", "year", "number", "account"], include=["id"], name="case_market_newest_idx"
            ),
            # The reports: cases filed and decided in a period.
            models.Index(fields=["created_at"], name="case_created_idx"),
            # ... the few filed after a heads-up, with whose they are.
            models.Index(
                fields=["created_at"],
                include=["assignee"],
                condition=Q(heads_up__isnull=False),
                name="case_after_heads_up_idx",
            ),
            models.Index(
                fields=["decided_at"], condition=Q(decided_at__isnull=False), name="case_decided_idx"
            ),
            # The reports' daily rollups find the cases changed since they last counted.
            models.Index(fields=["updated_at"], name="case_changed_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def currency(self) -> str:
        return venue_currency(self.venue)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CaseEvent(models.Model):
    """The case's append-only history: every change (who, when, before and after) and notes."""

    class Kind(models.TextChoices):
        FILED = "filed", "Filed"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        NOTE = "note", "Internal note"
        DECISION_PROPOSED = "decision_proposed", "Decision proposed"
        DECISION_RECORDED = "decision_recorded", "Decision recorded"
        DECISION_APPROVED = "decision_approved", "Decision approved"
        DECISION_AMENDED = "decision_amended", "Decision amended"
        EVIDENCE = "evidence", "Evidence added"
        REPLY = "reply", "Reply prepared"
        UPDATED = "updated", "Updated"

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    summary = models.CharField(max_length=300)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["case", "at"], name="caseevent_case_time_idx"),
            # The reports: replies sent in a period, by person. PostgreSQL reads them from the
            # second index alone; SQLite cannot match its JSON condition and uses the first.
            models.Index(fields=["at", "actor"], condition=Q(kind="reply"), name="caseevent_reply_idx"),
            models.Index(
                fields=["at", "actor"], condition=Q(kind="reply", after__sent=True), name="caseevent_sent_idx"
            ),
        ]

    def __str__(self):
        return f"{self.case}: {self.summary}"
