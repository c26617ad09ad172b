"""Daily rollups the reports read instead of scanning a year of rows: counts of SLA clocks by the
UTC day they stopped, and their durations in bands (for percentiles on SQLite). Derived data,
kept by reports.rollups: any day can be recomputed from the clocks at any time, and a day is
recomputed whenever one of its clocks changed (read from the clocks' `updated_at`)."""

from django.db import models


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

    class Meta:
        indexes = [models.Index(fields=["day"], name="clock_day_idx")]

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

    class Meta:
        indexes = [models.Index(fields=["day"], name="duration_day_idx")]

    def __str__(self):
        return f"{self.day} {self.metric} {self.measure} band {self.band}: {self.clocks}"


class RollupWatermark(models.Model):
    """How far the rollups have read the clocks' changes: every clock updated before `through`
    is counted in its day's rows."""

    name = models.CharField(max_length=40, primary_key=True)
    through = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"{self.name}: {self.through}"
