"""Applied SLA: the clocks on conversations and cases, and their warnings and breaches."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.models import TimeStampedModel
from support.models.conversations import Conversation
from support.models.policies import SlaPolicy

# Applied SLA: the clocks on conversations and cases, written only by support.sla.clocks and
# support.sla.tick. Definitions: support/sla/cycles.py (what starts and stops a clock).


class SlaClock(TimeStampedModel):
    """One target on one item: a conversation or a case, one metric, one cycle (first response
    has cycle 0; each next-response wait and each reopening's resolution is a cycle of its own,
    numbered from 1, so history is kept). Times are instants; `paused_total` is working time in
    the policy's calendar. `next_deadline` is the earliest warning or breach still to record,
    null when nothing is pending: the minute pass reads only rows whose deadline has come."""

    class Metric(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        NEXT_RESPONSE = "next_response", "Next response"
        RESOLUTION = "resolution", "Resolution"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"  # running, not yet due
        PAUSED = "paused", "Paused"  # waiting on the user
        BREACHED = "breached", "Breached"  # running past its due time
        HIT = "hit", "Hit"  # achieved by its due time
        MISSED = "missed", "Missed"  # achieved, or stopped, after its due time
        CANCELLED = "cancelled", "Cancelled"  # stopped before its due time without being achieved

    RUNNING = (Status.ACTIVE, Status.PAUSED, Status.BREACHED)

    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_clocks"
    )
    case = models.ForeignKey(
        "disputes.DisputeCase", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_clocks"
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=0)
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="Null while paused.")
    warn_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="When the clock stopped, achieved or not."
    )
    achieved_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_total = models.DurationField(default=dt.timedelta(0))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # How long the target took, kept when the clock is achieved (null otherwise): wall time from
    # start to achievement, and working time in the policy's calendar less the paused time. The
    # reports read percentiles of these (reports/metrics), so they are stored, not computed.
    wall_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    working_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # The item's tier and assignee as of the clock's last evaluation (frozen when it stops), so
    # the reports group clocks by them without joining the items.
    item_tier = models.ForeignKey(
        "accounts.Tier",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    item_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    next_deadline = models.DateTimeField(null=True, blank=True)
    # The item's most urgent running clock stands for it in the queue: 0 while it runs, 1 while
    # paused; null on every other clock (support.sla.clocks keeps it). A partial index in queue
    # order makes the queue a range read, however many clocks there are.
    queue_rank = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # The item's assignee, on its queue head only, so "mine" and "unassigned" read an index too.
    queue_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "SLA clock"
        ordering = ["started_at", "metric", "cycle"]
        constraints = [
            models.CheckConstraint(
                condition=Q(conversation__isnull=True, case__isnull=False)
                | Q(conversation__isnull=False, case__isnull=True),
                name="sla_clock_one_item",
            ),
            models.UniqueConstraint(
                fields=["conversation", "metric", "cycle"],
                condition=Q(conversation__isnull=False),
                name="sla_clock_conversation_cycle_unique",
            ),
            models.UniqueConstraint(
                fields=["case", "metric", "cycle"],
                condition=Q(case__isnull=False),
                name="sla_clock_case_cycle_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["next_deadline"], name="sla_clock_next_deadline_idx"),
            models.Index(fields=["status", "due_at"], name="sla_clock_status_due_idx"),
            # The reports read the clocks stopped in a period from this index alone: what they
            # count and group by is in it (an achieved clock stopped when it was achieved).
            models.Index(
                fields=[
                    "stopped_at",
                    "metric",
                    "status",
                    "item_tier",
                    "item_assignee",
                    "conversation",
                    "wall_seconds",
                    "working_seconds",
                ],
                condition=Q(stopped_at__isnull=False),
                name="sla_clock_report_idx",
            ),
            # A Specialist's own response times in the reports: their stopped clocks by time, with
            # what the percentiles read (key columns, not INCLUDE: SQLite has no INCLUDE).
            models.Index(
                fields=[
                    "item_assignee",
                    "stopped_at",
                    "metric",
                    "conversation",
                    "case",
                    "wall_seconds",
                    "working_seconds",
                ],
                condition=Q(stopped_at__isnull=False),
                name="sla_clock_assignee_stop_idx",
            ),
            # The reports' daily rollups find the days whose stopped clocks changed.
            models.Index(
                fields=["updated_at"], condition=Q(stopped_at__isnull=False), name="sla_clock_updated_idx"
            ),
            # Percentiles on SQLite: the achieved durations in value order, per kind, with the
            # period's column beside them (reports.aggregates reads them up to the rank).
            *(
                models.Index(
                    fields=["metric", measure, "stopped_at"],
                    condition=Q(**{f"{measure}__isnull": False, f"{kind}__isnull": False}),
                    name=f"sla_clock_{kind[:4]}_{measure[:4]}_idx",
                )
                for kind in ("conversation", "case")
                for measure in ("wall_seconds", "working_seconds")
            ),
            models.Index(
                fields=["queue_rank", "due_at", "id"],
                condition=Q(queue_rank__isnull=False),
                name="sla_clock_queue_idx",
            ),
            models.Index(
                fields=["queue_assignee", "queue_rank", "due_at", "id"],
                condition=Q(queue_rank__isnull=False),
                name="sla_clock_queue_assignee_idx",
            ),
            # The queue of one kind (?kind=case, ?kind=conversation), counted and paged alike.
            models.Index(
                fields=["queue_rank", "due_at", "id"],
                condition=Q(queue_rank__isnull=False, case__isnull=False),
                name="sla_clock_queue_case_idx",
            ),
            models.Index(
                fields=["queue_rank", "due_at", "id"],
                condition=Q(queue_rank__isnull=False, conversation__isnull=False),
                name="sla_clock_queue_conv_idx",
            ),
        ]

    def __str__(self):
        item = f"conversation {self.conversation_id}" if self.conversation_id else f"case {self.case_id}"
        return f"{self.get_metric_display()} #{self.cycle} on {item}: {self.get_status_display()}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING


class SlaEvent(models.Model):
    """A warning or a breach of one clock, recorded at most once (the unique constraint holds
    against two workers and reruns). `at` is when it happened (the clock's warn or due time),
    `recorded_at` when the portal noticed."""

    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACH = "breach", "Breach"

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = "SLA event"
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["clock", "kind"], name="sla_event_once_per_clock")]
        indexes = [models.Index(fields=["kind", "at"], name="sla_event_kind_at_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
