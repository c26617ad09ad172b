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


class RulebookSection(TimeStampedModel):
    """A numbered section of the platform rulebook (order execution, fees, deposits, ...)."""

    venue = models.CharField(max_length=16, choices=Venue.choices)
    number = models.CharField(max_length=20, help_text="Section number such as 4 or 4.2.")
    sort_key = models.CharField(max_length=80, help_text="The number zero-padded, for ordering.")
    title = models.CharField(max_length=200)
    current_version = models.ForeignKey(
        "RulebookSectionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["venue", "sort_key"]
        constraints = [models.UniqueConstraint(fields=["venue", "number"], name="rulebook_section_unique")]

    def __str__(self):
        return f"§{self.number} {self.title} ({self.get_venue_display()})"


class RulebookSectionVersion(Revision):
    parent_field = "section"
    current_field = "current_version"

    class Origin(models.TextChoices):
        IMPORT = "import", "Imported"
        EDIT = "edit", "Edited in the portal"

    section = models.ForeignKey(RulebookSection, on_delete=models.CASCADE, related_name="versions")
    title = models.CharField(max_length=200)
    body = models.TextField()
    effective_from = models.DateField()
    content_hash = models.CharField(max_length=64)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["section", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["section", "number"], name="rulebook_version_number_unique")
        ]
        indexes = [models.Index(fields=["section", "effective_from"], name="rulebook_version_effective_idx")]

    def __str__(self):
        return f"{self.section} v{self.number}"


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
            models.Index(fields=["first_response_due"], name="case_first_response_due_idx"),
            # The case list's default order.
            models.Index(fields=["resolution_due"], name="case_resolution_due_idx"),
            models.Index(fields=["market", "status"], name="case_market_status_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def currency(self) -> str:
        return "USD" if self.venue == Venue.US else "USDC"

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
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_time_idx")]

    def __str__(self):
        return f"{self.case}: {self.summary}"


class Decision(models.Model):
    """A decision on a case, frozen once recorded; an amendment is a new decision that keeps
    the one it supersedes."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Upheld"
        DENIED = "denied", "Denied"
        PARTIALLY_UPHELD = "partially_upheld", "Partially upheld"
        REFERRED = "referred", "Referred"

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed, awaiting approval"
        RECORDED = "recorded", "Recorded"
        SUPERSEDED = "superseded", "Superseded by an amendment"

    case = models.ForeignKey(DisputeCase, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField()
    remedy = models.TextField(blank=True)
    governing_version = models.ForeignKey(
        MarketRuleVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The market's rule version that governs, chosen when the rules changed since filing.",
    )
    governing_reason = models.TextField(
        blank=True, help_text="Why this rule version governs, when rules changed."
    )
    state = models.CharField(max_length=12, choices=State.choices)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    amendment_reason = models.TextField(blank=True)
    # Why this outcome differs from earlier decisions on the same market or rulebook section.
    consistency_note = models.TextField(blank=True, db_default="")

    class Meta:
        ordering = ["proposed_at", "pk"]
        # Only proposals, for the approval queue: an index over every state misleads SQLite's
        # planner into walking all recorded decisions when it should go by case.
        indexes = [
            models.Index(fields=["proposed_at"], condition=Q(state="proposed"), name="decision_proposed_idx"),
            # Past decisions, newest first.
            models.Index(fields=["proposed_at"], name="decision_proposed_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="recorded") | Q(approved_at__isnull=False),
                name="decision_recorded_is_approved",
            ),
        ]

    def __str__(self):
        return f"{self.case}: {self.get_outcome_display()} ({self.get_state_display()})"

    @property
    def needed_no_second_approval(self) -> bool:
        """Recorded by the one who decided it: the amount was below the four-eyes threshold (no
        one may approve their own proposal, so approver == proposer means no approval ran)."""
        return self.approved_by_id is not None and self.approved_by_id == self.proposed_by_id


class RuleCitation(models.Model):
    """The exact rule text a decision rests on: a market rule version or a rulebook section
    version, and an excerpt that appears in it."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="citations")
    market_rule_version = models.ForeignKey(
        MarketRuleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="citations"
    )
    rulebook_version = models.ForeignKey(
        RulebookSectionVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="citations"
    )
    excerpt = models.TextField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(market_rule_version__isnull=False, rulebook_version__isnull=True)
                | Q(market_rule_version__isnull=True, rulebook_version__isnull=False),
                name="citation_cites_exactly_one_source",
            ),
        ]

    def __str__(self):
        return self.excerpt[:60]


def evidence_upload_path(item: "EvidenceItem", filename: str) -> str:
    # The stored name never reuses the uploader's file name: it could carry a path or clash.
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"evidence/{item.case.reference}/{uuid.uuid4().hex}.{suffix}"


class EvidenceItem(models.Model):
    """One piece of evidence on a case: an identifier the user gave us, a link, or a file.
    Append-only like the rest of the case file."""

    class Kind(models.TextChoices):
        ORDER = "order", "Order id"
        TRADE = "trade", "Trade id"
        TRANSACTION = "transaction", "Transaction hash"
        WALLET = "wallet", "Wallet address"
        LINK = "link", "Link"
        FILE = "file", "File"

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The identifier itself (order id, trade id, hash, address or URL), normalised; empty for files.
    value = models.CharField(max_length=500, blank=True)
    description = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to=evidence_upload_path, blank=True, max_length=200)
    file_name = models.CharField(max_length=200, blank=True, help_text="The name it was uploaded with.")
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["added_at", "pk"]
        indexes = [models.Index(fields=["kind", "value"], name="evidence_kind_value_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value or self.file_name}"


class WalletActivitySnapshot(models.Model):
    """A wallet's on-chain activity for a market and time window, as the Data API reported it
    when fetched; frozen, so the case keeps what the specialist saw."""

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="wallet_snapshots")
    wallet_address = models.CharField(max_length=42)
    condition_id = models.CharField(max_length=66, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    source = models.CharField(max_length=80)
    truncated = models.BooleanField(default=False, help_text="More rows existed than the API would page to.")
    row_count = models.PositiveIntegerField(default=0)
    fetched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["fetched_at", "pk"]

    def __str__(self):
        return f"{self.case}: {self.wallet_address} {self.window_start:%Y-%m-%d}–{self.window_end:%Y-%m-%d}"


class WalletActivityRow(models.Model):
    """One activity row of a snapshot: a trade, deposit, withdrawal, redemption, …"""

    snapshot = models.ForeignKey(WalletActivitySnapshot, on_delete=models.CASCADE, related_name="rows")
    # Denormalised so a search by transaction hash finds the case without a join through snapshots.
    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20)
    condition_id = models.CharField(max_length=66, blank=True)
    title = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=100, blank=True)
    side = models.CharField(max_length=4, blank=True)
    size = models.DecimalField(max_digits=30, decimal_places=8, null=True, blank=True)
    usdc_size = models.DecimalField(max_digits=30, decimal_places=8, null=True, blank=True)
    price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    transaction_hash = models.CharField(max_length=66, blank=True)
    collateral = models.CharField(max_length=8, help_text="USDC.e before the 2026-04-28 cutover, pUSD after.")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["transaction_hash"], name="activity_tx_hash_idx")]

    def __str__(self):
        return f"{self.kind} {self.transaction_hash}"
