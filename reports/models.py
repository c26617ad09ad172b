"""Daily rollups the reports read instead of scanning a year of rows: counts of SLA clocks by the
UTC day they stopped, their durations in bands (for percentiles on SQLite), and conversations
closed and rated per UTC day. Derived data, kept by reports.rollups: any day can be counted
again from the rows at any time, and is whenever a row counted in it changed.

Each rollup also holds a row per UTC week (Monday to Sunday) beside its daily rows, `days` = 7
and `day` its Monday: the sums of the week's daily rows, so a span of months reads a row per
week where it holds whole weeks (reports.rollups.weeks)."""

from django.db import models


def _days_field():
    return models.PositiveSmallIntegerField(
        default=1, help_text="1: the counts of `day`; 7: of the UTC week starting on `day` (a Monday)."
    )


class ClockDay(models.Model):
    """Stopped SLA clocks of one UTC day, counted per metric, outcome, kind, tier and assignee.
    `timed` counts those achieved (with durations)."""

    day = models.DateField()
    metric = models.CharField(max_length=16)
    status = models.CharField(max_length=10)
    kind = models.CharField(max_length=12)  # "conversation" or "case"
    tier_id = models.BigIntegerField(null=True)  # plain ids: a rollup outlives nothing it counts
    assignee_id = models.BigIntegerField(null=True)
    clocks = models.PositiveIntegerField()
    timed = models.PositiveIntegerField()
    days = _days_field()

    class Meta:
        indexes = [
            models.Index(fields=["days", "day"], name="clock_days_idx"),
            # productivity reads one metric and kind: a third of the day's rows
            models.Index(fields=["days", "metric", "kind", "day"], name="clock_metric_days_idx"),
        ]

    def __str__(self):
        return f"{self.day} {self.metric} {self.status}: {self.clocks}"


class DurationDay(models.Model):
    """Achieved clocks of one UTC day per metric, kind and measure (wall or working time),
    counted per duration band (reports.rollups.BANDS)."""

    day = models.DateField()
    metric = models.CharField(max_length=16)
    kind = models.CharField(max_length=12)
    measure = models.CharField(max_length=16)  # "wall_seconds" or "working_seconds"
    band = models.PositiveSmallIntegerField()
    clocks = models.PositiveIntegerField()
    days = _days_field()

    class Meta:
        indexes = [models.Index(fields=["days", "day"], name="duration_days_idx")]

    def __str__(self):
        return f"{self.day} {self.metric} {self.measure} band {self.band}: {self.clocks}"


class ConversationDay(models.Model):
    """Conversations of one UTC day per event ("closed": closed that day; "rated": rated that
    day, per rating), assignee, and the tier and venue of their account."""

    day = models.DateField()
    event = models.CharField(max_length=8)
    assignee_id = models.BigIntegerField(null=True)
    tier_id = models.BigIntegerField(null=True)
    venue = models.CharField(max_length=16, null=True)  # noqa: DJ001 (None: no account, as the join gives)
    rating = models.PositiveSmallIntegerField(null=True)  # "closed" rows: None
    conversations = models.PositiveIntegerField()
    days = _days_field()

    class Meta:
        indexes = [
            models.Index(fields=["days", "day"], name="conversation_days_idx"),
            models.Index(
                fields=["days", "event", "day"], name="conversation_event_days_idx"
            ),  # a read's rows
        ]

    def __str__(self):
        return f"{self.day} {self.event}: {self.conversations}"


class CaseDay(models.Model):
    """Dispute cases of one UTC day per event ("opened": filed that day; "decided": their decision
    took effect that day), category, venue and assignee; decided ones also per the outcome and
    author of their recorded decision (None when none is recorded)."""

    day = models.DateField()
    event = models.CharField(max_length=8)
    category = models.CharField(max_length=32)
    venue = models.CharField(max_length=16)
    assignee_id = models.BigIntegerField(null=True)
    outcome = models.CharField(max_length=20, null=True)  # noqa: DJ001 (None: opened, or no recorded decision)
    decided_by_id = models.BigIntegerField(null=True)
    cases = models.PositiveIntegerField()
    days = _days_field()

    class Meta:
        indexes = [
            models.Index(fields=["days", "day"], name="case_days_idx"),
            models.Index(fields=["days", "event", "day"], name="case_event_days_idx"),  # a read's rows
        ]

    def __str__(self):
        return f"{self.day} {self.event}: {self.cases}"


class RolledAccount(models.Model):
    """The tier and venue of each account as the conversation rollups counted them: an account
    that moves is found by comparing, and its conversations' days are counted again."""

    account_id = models.BigIntegerField(primary_key=True)
    tier_id = models.BigIntegerField(null=True)
    venue = models.CharField(max_length=16)

    def __str__(self):
        return f"account {self.account_id}: tier {self.tier_id}, {self.venue}"


class FeedbackCounts(models.Model):
    """What both feedback rollups count by: a UTC day (or week), an event, the item's category
    and product area, and the band of the event's wait (None for "logged")."""

    day = models.DateField()
    event = models.CharField(max_length=8)
    category = models.CharField(max_length=20)
    area_id = models.BigIntegerField(null=True)
    band = models.PositiveSmallIntegerField(null=True)
    days = _days_field()

    class Meta:
        abstract = True


class FeedbackDay(FeedbackCounts):
    """Feedback items of one UTC day per event ("logged"; "triaged": first left New; "shipped":
    first became Shipped), category and product area; triaged and shipped ones also per the band
    of their wait (logged → triaged, triaged → shipped: feedback.waits.WAIT_BANDS), so
    that a median is read from one band's rows."""

    items = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["days", "day"], name="feedback_days_idx"),
            models.Index(fields=["days", "event", "day"], name="feedback_event_days_idx"),
        ]

    def __str__(self):
        return f"{self.day} {self.event}: {self.items}"


class FollowUpDay(FeedbackCounts):
    """Follow-ups done (users told, event "told") per UTC day, the category and product area of
    their item, and the band of their wait from the item's shipping or declining."""

    follow_ups = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["days", "event", "day"], name="follow_up_days_idx")]

    def __str__(self):
        return f"{self.day} {self.event}: {self.follow_ups}"


class CheckInDay(models.Model):
    """Check-ins with accounts that took place on one UTC day (event "held"), per specialist who
    held them: productivity's check-ins logged."""

    day = models.DateField()
    event = models.CharField(max_length=8)
    specialist_id = models.BigIntegerField(null=True)
    check_ins = models.PositiveIntegerField()
    days = _days_field()

    class Meta:
        indexes = [models.Index(fields=["days", "event", "day"], name="check_in_days_idx")]

    def __str__(self):
        return f"{self.day} {self.event}: {self.check_ins}"


class RollupWatermark(models.Model):
    """How far the rollups have read the clocks' changes: every clock updated before `through`
    is counted in its day's rows."""

    name = models.CharField(max_length=40, primary_key=True)
    through = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)
    # Days from which rows were deleted (their rollups count them until counted again).
    dirty_from = models.DateField(null=True)

    def __str__(self):
        return f"{self.name}: {self.through}"


class MetricSnapshot(models.Model):
    """Every figure and breakdown of the reports page for one ISO week (Monday 00:00 to Monday
    00:00 in the program's time zone), frozen: what leadership was sent reads the same months
    later. `sections` holds the figures as they were (value, the count behind it, definition);
    `headline` the figures' values by key, for trends without reading every section.

    A week is frozen once by the schedule. *Recompute* (an Admin, with a reason) freezes it again
    as a new row and keeps this one, `replaced_at` set: the current snapshot of a week is its
    row without `replaced_at`."""

    week = models.DateField(help_text="The week's Monday, in the program's time zone.")
    time_zone = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    definitions_version = models.CharField(max_length=16)
    sections = models.JSONField()
    headline = models.JSONField(default=dict)
    items = models.PositiveIntegerField(help_text="Conversations, cases, check-ins … counted; 0: no data.")
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(
        "portal.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # None: the schedule
    reason = models.TextField(blank=True)  # why it was recomputed
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week"],
                condition=models.Q(replaced_at__isnull=True),
                name="snapshot_one_current_per_week",
            )
        ]
        indexes = [models.Index(fields=["-week"], name="snapshot_week_idx")]

    def __str__(self):
        return f"Week of {self.week}" + (" (replaced)" if self.replaced_at else "")


class WeeklyMailRecipient(models.Model):
    """Someone an Admin added to the weekly figures e-mail, besides Leadership."""

    email = models.EmailField(unique=True)
    added_by = models.ForeignKey("portal.User", null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField()

    def __str__(self):
        return self.email


class WeeklyMail(models.Model):
    """One week's figures e-mail to one address: recorded before it is sent, so that a rerun or
    a second worker sends nothing again; a refused send is retried, and shown to Admins."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Failed (gave up)"

    week = models.DateField()
    email = models.EmailField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week", "email"], name="weekly_mail_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="weekly_mail_due_idx")]

    def __str__(self):
        return f"{self.week} to {self.email}: {self.status}"
