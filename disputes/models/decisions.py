"""Decisions on cases and the rule text each one cites."""

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, F, Q

from disputes.models.cases import DisputeCase
from disputes.models.markets import MarketRuleVersion
from disputes.models.rulebook import RulebookSectionVersion

# What the reports count: a decision that amends an earlier one, and one a second person approved
# (not approved by its own proposer: a column the database keeps, so that its planner knows how
# few they are; it cannot tell from a comparison of two columns, and read every decision).
AMENDS = Q(supersedes__isnull=False)
SELF_APPROVED = Q(approved_by__isnull=False, approved_by=F("proposed_by"))
FOUR_EYES = Q(self_approved=False)


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
    self_approved = models.GeneratedField(
        expression=ExpressionWrapper(SELF_APPROVED, output_field=models.BooleanField()),
        output_field=models.BooleanField(),
        db_persist=True,
    )
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
            # The reports: approvals and amendments that took effect in a period.
            models.Index(
                fields=["approved_at"], condition=Q(approved_at__isnull=False), name="decision_approved_idx"
            ),
            # ... the few of them that amend a decision or had a second approver.
            models.Index(fields=["approved_at"], condition=AMENDS, name="decision_amends_idx"),
            models.Index(fields=["approved_at"], condition=FOUR_EYES, name="decision_four_eyes_idx"),
            # ... and both together, with what the reports count them by, read from the index alone.
            models.Index(
                fields=["approved_at"],
                include=["id", "case", "supersedes", "self_approved", "proposed_at"],
                condition=AMENDS | FOUR_EYES,
                name="decision_taking_effect_idx",
            ),
            # ... and a case's recorded decision, its outcome and author, without reading the row
            # (the hours of decided cases a report reads around whole days).
            models.Index(
                fields=["case"],
                include=["outcome", "proposed_by"],
                condition=Q(state="recorded"),
                name="decision_recorded_case_idx",
            ),
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
