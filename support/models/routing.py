"""Routing: the ordered rules that decide who gets a new conversation or case, the teams they may
name, and the stored decision for each item (support.routing decides, support.routing.services
records and carries it out)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from disputes.models import DisputeCase
from portal.models import TimeStampedModel


class RoutingTeam(TimeStampedModel):
    """A group of people a rule may give work to: the member who is available and has the fewest
    open items gets it. `intercom_id` names the Intercom team it is assigned to there as well;
    a team Intercom no longer has is marked `gone_at` by the teammate sync and its rules are
    skipped as broken."""

    name = models.CharField(max_length=120, unique=True)
    intercom_id = models.CharField(max_length=40, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="routing_teams")
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RoutingRule(TimeStampedModel):
    """One rule: conditions (every one given must hold; empty means any) and what to do. The
    first active rule, by `position`, whose conditions hold decides."""

    class Assign(models.TextChoices):
        OWNER = "owner", "The account's owner"
        TEAM = "team", "The team's available member with the fewest open items"
        PERSON = "person", "A named person"
        NOBODY = "nobody", "Nobody: leave it unassigned"

    class WhenUnavailable(models.TextChoices):
        NEXT_RULE = "next", "Go on to the next rule"
        TEAM = "team", "Give it to the rule's team"

    class OwnerAvailable(models.TextChoices):
        EITHER = "", "Either"
        YES = "yes", "Available"
        NO = "no", "Not available"

    position = models.PositiveIntegerField(db_index=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # Conditions.
    tiers = models.ManyToManyField("accounts.Tier", blank=True, related_name="routing_rules")
    venues = models.JSONField(default=list, blank=True)
    kinds = models.JSONField(default=list, blank=True)  # "conversation", "case"
    case_categories = models.JSONField(default=list, blank=True)
    min_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    words = models.TextField(blank=True, help_text="Words or phrases, one per line or comma-separated.")
    intercom_tags = models.JSONField(default=list, blank=True)
    owner_available = models.CharField(max_length=3, choices=OwnerAvailable.choices, blank=True)
    # Actions.
    assign = models.CharField(max_length=10, choices=Assign.choices, default=Assign.OWNER)
    team = models.ForeignKey(RoutingTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    when_unavailable = models.CharField(
        max_length=4, choices=WhenUnavailable.choices, default=WhenUnavailable.NEXT_RULE
    )
    # A case's priority (DisputeCase.Priority); for a conversation, the priority its SLA policy
    # is matched by. Empty: leave it as it is.
    priority = models.CharField(max_length=10, choices=DisputeCase.Priority.choices, blank=True)
    sla_policy = models.ForeignKey(
        "support.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    add_tags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.position}. {self.name}"


class RoutingDecision(models.Model):
    """What routing decided for one item, once: the rule (and its name then), who or which team,
    why, and what it set. An item is routed once; a later change by a person is theirs."""

    conversation = models.OneToOneField(
        "support.Conversation", null=True, blank=True, on_delete=models.CASCADE, related_name="routing"
    )
    case = models.OneToOneField(
        "disputes.DisputeCase", null=True, blank=True, on_delete=models.CASCADE, related_name="routing"
    )
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(RoutingTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    priority = models.CharField(max_length=10, blank=True)
    sla_policy = models.ForeignKey(
        "support.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.JSONField(default=list, blank=True)
    reason = models.TextField()
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(conversation__isnull=False, case__isnull=True)
                | Q(conversation__isnull=True, case__isnull=False),
                name="routing_decision_one_item",
            )
        ]
        indexes = [models.Index(fields=["assignee", "-decided_at"], name="routing_assignee_idx")]

    def __str__(self):
        item = f"conversation {self.conversation_id}" if self.conversation_id else f"case {self.case_id}"
        return f"Routing of {item}: {self.reason}"
