"""The mirror of Intercom conversations (what support metrics, account timelines and SLA
tracking read; written only by `support.services.conversation_sync`), and the SLA calendars
and policies."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from portal.models import TimeStampedModel, validate_time_zone
from support.sla.business_time import CalendarSpec


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


# SLA calendars and policies. Written through support.sla.calendars and support.sla.policies,
# which check what one row cannot (overlapping windows, the catch-all's place, deleting in use).

ONE_YEAR_MINUTES = 365 * 24 * 60
MINUTES_PER_DAY = 24 * 60


class BusinessCalendar(TimeStampedModel):
    """The working time an SLA target is counted in: weekly opening windows and holidays, read
    in the calendar's own time zone. "24/7" is a calendar too (open 00:00-24:00 every day)."""

    name = models.CharField(max_length=80, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def spec(self) -> CalendarSpec:
        """The calendar as the business-time arithmetic reads it. Uses `windows` and `holidays`
        as prefetched (prefetch_related("windows", "holidays")), else two queries."""
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for window in self.windows.all():
            days[window.weekday].append((window.start_minute, window.end_minute))
        closed = set()
        for holiday in self.holidays.all():
            closed.update(holiday.dates())
        return CalendarSpec(
            time_zone=self.time_zone,
            windows=tuple(tuple(sorted(day)) for day in days),
            holidays=frozenset(closed),
        )


class OpeningWindow(models.Model):
    """Open from `start_minute` to `end_minute` (minutes after local midnight; 1440 is 24:00)
    on one weekday. A day may have several windows; they never overlap."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_minute = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(MINUTES_PER_DAY - 1)], help_text="Minutes after midnight (9:00 is 540)."
    )
    end_minute = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MINUTES_PER_DAY)],
        help_text="Minutes after midnight; 1440 is 24:00.",
    )

    class Meta:
        ordering = ["calendar", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="sla_window_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(start_minute__lt=F("end_minute"), end_minute__lte=MINUTES_PER_DAY),
                name="sla_window_start_before_end",
                violation_error_message="A window must end after it starts, at 24:00 at the latest.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_weekday_display()} {minute_label(self.start_minute)}–{minute_label(self.end_minute)}"
        )


class Holiday(models.Model):
    """Closed all day from `first_day` to `last_day` (local dates, both included)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(max_length=120)
    first_day = models.DateField()
    last_day = models.DateField()

    class Meta:
        ordering = ["calendar", "first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")),
                name="sla_holiday_first_not_after_last",
                violation_error_message="A holiday can’t end before it starts.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.name} ({self.first_day}–{self.last_day})"
            if self.last_day != self.first_day
            else self.name
        )

    def dates(self) -> list[dt.date]:
        return [
            self.first_day + dt.timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)
        ]


def minute_label(minute: int) -> str:
    """540 -> "09:00"; 1440 -> "24:00"."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _target_ok(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": 0, f"{field}__lte": ONE_YEAR_MINUTES})


class SlaPolicy(TimeStampedModel):
    """One line of the ordered policy list: the first active policy (by `position`) whose
    conditions all hold for a conversation or case gives its targets. An empty condition
    matches anything; a policy without any condition is the catch-all and comes last.

    Conditions are lists of codes: `kinds` ("conversation", "case"), `case_categories`
    (DisputeCase.Category), `priorities` (DisputeCase.Priority; a conversation's Intercom
    priority is mapped onto them, see support.sla.matching), `venues` (accounts.Venue)."""

    class Kind(models.TextChoices):
        CONVERSATION = "conversation", "Conversation"
        CASE = "case", "Case"

    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(
        unique=True, help_text="Policies are tried from the lowest position."
    )
    is_active = models.BooleanField(default=True)
    tiers = models.ManyToManyField("accounts.Tier", blank=True, related_name="sla_policies")
    kinds = models.JSONField(default=list, blank=True)
    case_categories = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    venues = models.JSONField(default=list, blank=True)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    pause_while_waiting = models.BooleanField(
        default=True, help_text="Stop the clocks while we wait on the user (case waiting on user, snoozed)."
    )
    warn_minutes = models.PositiveIntegerField(
        default=15, help_text="Warn this many minutes before a breach."
    )
    escalate_on_breach = models.BooleanField(
        default=False,
        help_text="Raise an escalation (and page whoever is on call) when a target is breached.",
    )

    TARGET_FIELDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    LIST_CONDITIONS = ("kinds", "case_categories", "priorities", "venues")

    class Meta:
        ordering = ["position"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            *(
                models.CheckConstraint(
                    condition=_target_ok(field),
                    name=f"sla_policy_{field}_1_to_year",
                    violation_error_message="A target is between 1 minute and one year (525,600 minutes).",
                )
                for field in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__isnull=False)
                | Q(next_response_minutes__isnull=False)
                | Q(resolution_minutes__isnull=False),
                name="sla_policy_has_a_target",
                violation_error_message="A policy needs at least one target.",
            ),
        ]

    def __str__(self):
        return self.name


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
