"""Calendar forms of the SLA pages: weekly windows typed per weekday, holidays as rows and the
holiday imports. The services decide what may be saved; these forms only turn what a person
typed into their inputs."""

import re

from django import forms
from django.core.exceptions import ValidationError

from portal.forms import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    BoundedDateField,
    add_service_errors,
    time_zone_choices,
)
from support.models import (
    MINUTES_PER_DAY,
    BusinessCalendar,
    OpeningWindow,
    minute_label,
)
from support.sla.calendars import HolidayInput, WindowInput

WEEKDAYS = OpeningWindow.Weekday.choices
ICAL_MAX_BYTES = 1024 * 1024
MAX_YEARS = 10

# ---- opening windows -------------------------------------------------------------------------

_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?"
_WINDOW = re.compile(rf"^{_TIME}\s*(?:-|–|—|to)\s*{_TIME}$", re.IGNORECASE)


def _minute(hours: str, minutes: str | None, text: str) -> int:
    hour, minute = int(hours), int(minutes or 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ValidationError(f"“{text}”: a time runs from 00:00 to 24:00.")
    return hour * 60 + minute


def parse_windows(text: str) -> list[tuple[int, int]]:
    """ "09:00–12:00, 13:00–17:00" -> [(540, 720), (780, 1020)]. Empty or "closed" is no window.
    Raises ValidationError naming the piece that is not a window."""
    text = (text or "").strip()
    if not text or text.lower() == "closed":
        return []
    found = []
    for piece in re.split(r"[,;]", text):
        piece = piece.strip()
        if not piece:
            continue
        match = _WINDOW.match(piece)
        if not match:
            raise ValidationError(
                f"“{piece}” is not a window: write it as 09:00–17:00 (several separated by commas)."
            )
        start = _minute(match.group(1), match.group(2), piece)
        end = _minute(match.group(3), match.group(4), piece)
        if start >= MINUTES_PER_DAY:
            raise ValidationError(f"“{piece}”: a window starts before 24:00.")
        found.append((start, end))
    return found


def windows_text(windows) -> str:
    """The other way round, for a day's windows (start_minute and end_minute)."""
    return ", ".join(f"{minute_label(w.start_minute)}–{minute_label(w.end_minute)}" for w in windows)


def window_field_name(weekday: int) -> str:
    return f"windows_{weekday}"


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=BusinessCalendar._meta.get_field("name").max_length)
    time_zone = forms.ChoiceField(
        choices=time_zone_choices, help_text="Windows and holidays are read in this zone's local time."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday, label in WEEKDAYS:
            self.fields[window_field_name(weekday)] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                help_text="Closed when empty."
                if weekday
                else "Opening hours, such as 09:00–12:00, "
                "13:00–17:00; 00:00–24:00 for the whole day; empty for closed.",
            )

    def clean(self):
        cleaned = super().clean()
        for weekday, _ in WEEKDAYS:
            name = window_field_name(weekday)
            if name in cleaned:
                try:
                    cleaned[name] = parse_windows(cleaned[name])
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned

    def windows(self) -> list[WindowInput]:
        return [
            WindowInput(weekday, start, end)
            for weekday, _ in WEEKDAYS
            for start, end in self.cleaned_data[window_field_name(weekday)]
        ]

    def add_window_errors(self, messages: list[str]) -> None:
        """The service's window messages start with the day they are about: put each there."""
        labels = {label: weekday for weekday, label in WEEKDAYS}
        for message in messages:
            day = message.split(":", 1)[0]
            self.add_error(window_field_name(labels[day]) if day in labels else None, message)


class HolidayForm(forms.Form):
    name = forms.CharField(max_length=120)
    first_day = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last_day = BoundedDateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Empty for a single day.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("first_day") and not cleaned.get("last_day"):
            cleaned["last_day"] = cleaned["first_day"]
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "The last day can’t be before the first.")
        return cleaned


class BaseHolidayFormSet(forms.BaseFormSet):
    def holidays(self) -> list[HolidayInput]:
        return [
            HolidayInput(
                form.cleaned_data["name"], form.cleaned_data["first_day"], form.cleaned_data["last_day"]
            )
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


MAX_HOLIDAY_ROWS = 1000
HolidayFormSet = forms.formset_factory(
    HolidayForm,
    formset=BaseHolidayFormSet,
    extra=3,
    can_delete=True,
    max_num=MAX_HOLIDAY_ROWS,
    absolute_max=MAX_HOLIDAY_ROWS,
    validate_max=True,
)


def holiday_formset(data=None, *, calendar: BusinessCalendar | None = None):
    """The calendar's holidays as rows, with three empty rows to add more."""
    initial = (
        [{"name": h.name, "first_day": h.first_day, "last_day": h.last_day} for h in calendar.holidays.all()]
        if calendar is not None
        else []
    )
    formset = HolidayFormSet(data, initial=initial, prefix="holidays")
    for form in formset.forms:
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"
    return formset


def calendar_initial(calendar: BusinessCalendar) -> dict:
    by_day = {weekday: [] for weekday, _ in WEEKDAYS}
    for window in calendar.windows.all():
        by_day[window.weekday].append(window)
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "description": calendar.description,
        **{window_field_name(day): windows_text(windows) for day, windows in by_day.items()},
    }


def add_calendar_errors(form: CalendarForm, formset, error: ValidationError) -> None:
    """A calendar service error on the page: windows on their day, holidays above the rows."""
    by_field = dict(error.message_dict)
    form.add_window_errors(by_field.pop("windows", []))
    holiday_problems = by_field.pop("holidays", [])
    if holiday_problems:
        formset._non_form_errors = formset.error_class(
            [*formset.non_form_errors(), *holiday_problems], error_class="nonform"
        )
    if by_field:
        add_service_errors(form, ValidationError(by_field))


# ---- holiday imports -------------------------------------------------------------------------


def parse_years(text: str) -> list[int]:
    """ "2026", "2026, 2027" or "2026-2028" -> the years, at most MAX_YEARS of them."""
    years: set[int] = set()
    for piece in re.split(r"[,;\s]+", (text or "").strip()):
        if not piece:
            continue
        match = re.fullmatch(r"(\d{4})(?:\s*[-–]\s*(\d{4}))?", piece)
        if not match:
            raise ValidationError(f"“{piece}” is not a year: write 2026, or 2026–2028.")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not (EARLIEST_YEAR <= first <= last <= LATEST_YEAR):
            raise ValidationError(f"Give years between {EARLIEST_YEAR} and {LATEST_YEAR}, the earlier first.")
        if last - first >= MAX_YEARS:
            raise ValidationError(f"At most {MAX_YEARS} years at a time.")
        years.update(range(first, last + 1))
    if not years:
        raise ValidationError("Give at least one year.")
    if len(years) > MAX_YEARS:
        raise ValidationError(f"At most {MAX_YEARS} years at a time.")
    return sorted(years)


class PublicHolidaysForm(forms.Form):
    country = forms.CharField(
        max_length=3,
        help_text="ISO country code: US, GB, DE, FR, SG…",
        widget=forms.TextInput(attrs={"size": 4}),
    )
    subdivision = forms.CharField(
        max_length=10, required=False, help_text="Optional region code: CA (California), ENG (England)…"
    )
    years = forms.CharField(max_length=60, help_text="Such as 2026, or 2026–2027.")

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()

    def clean_subdivision(self):
        return self.cleaned_data["subdivision"].strip().upper() or None

    def clean_years(self):
        return parse_years(self.cleaned_data["years"])


class IcalImportForm(forms.Form):
    ical_file = forms.FileField(
        label="iCalendar file",
        help_text=f"An .ics file of holidays, {ICAL_MAX_BYTES // 1024} KB at most.",
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )

    def clean_ical_file(self):
        upload = self.cleaned_data["ical_file"]
        if upload.size > ICAL_MAX_BYTES:
            raise ValidationError(
                f"That file is over {ICAL_MAX_BYTES // 1024} KB: is it really a holiday list?"
            )
        return upload
