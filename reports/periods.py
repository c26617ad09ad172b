"""The period a report covers, in the viewer's time zone, and the previous period it is
compared with.

A period is a half-open interval of instants [start, end): "last 30 days" is the 30 local
calendar days ending with today (today included), a month is its first local midnight to the
next month's, a custom range is its first day's midnight to the midnight after its last day.
The previous period is the one of the same length that ends where this one starts (for a month,
the same number of days before it, so the change compares like with like)."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

PRESETS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PRESET = "30d"
LONGEST_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime
    label: str
    params: tuple[tuple[str, str], ...]  # the query parameters that choose this period again

    @property
    def days(self) -> int:
        return round((self.end - self.start).total_seconds() / 86400)

    def previous(self) -> "Period":
        """The same number of local days, ending where this period starts."""
        first = self.start.date() - dt.timedelta(days=self.days)
        return Period(
            start=_local_midnight(first, self.start.tzinfo),
            end=self.start,
            label=f"the {self.days} days before",
            params=(),
        )

    @property
    def last_day(self) -> dt.date:
        """The period's last local day (its end is the midnight after it)."""
        return (self.end - dt.timedelta(microseconds=1)).date()

    def contains(self, instant: dt.datetime) -> bool:
        return self.start <= instant < self.end


def _local_midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def period_of_days(first: dt.date, last: dt.date, tz, *, label: str, params) -> Period:
    """The local days first..last (inclusive) as instants."""
    return Period(
        start=_local_midnight(first, tz),
        end=_local_midnight(last + dt.timedelta(days=1), tz),
        label=label,
        params=tuple(params),
    )


def last_days(days: int, *, today: dt.date, tz) -> Period:
    return period_of_days(
        today - dt.timedelta(days=days - 1),
        today,
        tz,
        label=f"Last {days} days",
        params=[("range", f"{days}d")],
    )


def month_period(year: int, month: int, tz) -> Period:
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return period_of_days(
        first,
        following - dt.timedelta(days=1),
        tz,
        label=first.strftime("%B %Y"),
        params=[("range", "month"), ("month", first.strftime("%Y-%m"))],
    )


class PeriodForm(forms.Form):
    """The period picker. Unbound or empty, it means the last 30 days."""

    range = forms.ChoiceField(
        choices=[
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
            ("90d", "Last 90 days"),
            ("month", "A month"),
            ("custom", "Custom range"),
        ],
        required=False,
        initial=DEFAULT_PRESET,
        label="Period",
    )
    month = forms.CharField(required=False, label="Month", help_text="YYYY-MM", max_length=7)
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, tz=None, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz or timezone.get_current_timezone()
        self.today = today or timezone.localdate(timezone=self.tz)

    def clean_month(self):
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        try:
            first = dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("Give the month as YYYY-MM, for example 2026-11.") from None
        if first > self.today:
            raise forms.ValidationError("That month has not begun yet.")
        return first

    def clean(self):
        data = super().clean()
        choice = data.get("range") or DEFAULT_PRESET
        if choice == "month" and not data.get("month") and "month" not in self.errors:
            self.add_error("month", "Pick the month to report on.")
        if choice == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None and "start" not in self.errors:
                self.add_error("start", "Give the first day of the range.")
            if end is None and "end" not in self.errors:
                self.add_error("end", "Give the last day of the range.")
            if start and end:
                if end < start:
                    self.add_error("end", "The last day comes before the first.")
                elif (end - start).days + 1 > LONGEST_DAYS:
                    self.add_error("end", f"A range covers at most {LONGEST_DAYS} days.")
                elif start > self.today:
                    self.add_error("start", "The range has not begun yet.")
        data["range"] = choice
        return data

    def period(self) -> Period:
        """The chosen period (the default when the form is not valid: the page shows the errors
        beside the default figures)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {"range": DEFAULT_PRESET}
        choice = data["range"]
        if choice in PRESETS:
            return last_days(PRESETS[choice], today=self.today, tz=self.tz)
        if choice == "month":
            return month_period(data["month"].year, data["month"].month, self.tz)
        start, end = data["start"], data["end"]
        return period_of_days(
            start,
            end,
            self.tz,
            label=f"{start:%-d %b %Y} – {end:%-d %b %Y}",
            params=[("range", "custom"), ("start", start.isoformat()), ("end", end.isoformat())],
        )


def period_from_request(request, *, tz: ZoneInfo | None = None) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET or None, tz=tz)
    return form, form.period()
