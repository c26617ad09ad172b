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
