"""SLA calendars (opening windows, holidays) and the ordered SLA policies."""

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from portal.models import TimeStampedModel, validate_time_zone
from support.sla.business_time import CalendarSpec

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
