import re

from django import forms
from django.core.exceptions import ValidationError

from portal.models import User, known_time_zones
from portal.services import user_email_change_allowed, user_email_check_free


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in known_time_zones() if "/" in z or z == "UTC")
    return [(z, z.replace("_", " ")) for z in zones]


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        help_text="Every date and time in the portal is shown in this zone.",
    )
    current_password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only when you change your e-mail.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "time_zone"]
        labels = {"email": "E-mail (for password resets)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_email = self.instance.email  # before the form copies the typed one onto it

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        user_email_check_free(user=self.instance, email=email)
        return email

    def clean(self):
        data = super().clean()
        if "email" in data:
            try:
                user_email_change_allowed(
                    user=self.instance,
                    stored_email=self.stored_email,
                    email=data["email"],
                    current_password=data.get("current_password") or "",
                )
            except ValidationError as error:
                self.add_error("current_password", error)
        return data


class WorkingHoursForm(forms.Form):
    """One line per weekday: `09:00-17:00`, several windows separated by commas, empty when not
    working. Read in the person's own time zone; routing sends work only within them (or while
    on call)."""

    def __init__(self, *args, user: User, **kwargs):
        from portal.availability import WEEKDAYS, day_text, hours_by_day

        super().__init__(*args, **kwargs)
        days = hours_by_day(user)
        for index, name in enumerate(WEEKDAYS):
            self.fields[name.lower()] = forms.CharField(
                label=name, required=False, max_length=200, initial=day_text(days[index])
            )
        self.fields["monday"].help_text = "For example 09:00-17:00, or 09:00-12:00, 13:00-18:00."

    def days(self) -> list[str]:
        return [self.cleaned_data[name] for name in self.fields]


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_BIGINT = 2**63 - 1


class BoundedDateTimeField(forms.DateTimeField):
    """A date and time between 2000 and 2100: a year outside that is a typo, and a date near
    year 1 or 9999 cannot be converted to UTC (Python's datetime overflows)."""

    def to_python(self, value):
        if isinstance(value, str):
            match = re.match(r"\s*(\d{1,6})-", value)
            if match and not EARLIEST_YEAR <= int(match.group(1)) <= LATEST_YEAR:
                raise forms.ValidationError(
                    f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}.", code="out_of_range"
                )
        try:
            return super().to_python(value)
        except OverflowError as error:
            raise forms.ValidationError("Enter a real date and time.", code="invalid") from error


class BoundedDateField(forms.DateField):
    def to_python(self, value):
        result = super().to_python(value)
        if result and not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
            raise forms.ValidationError(
                f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}.", code="out_of_range"
            )
        return result


def _check_pk(value) -> None:
    """Refuse ids a database integer cannot hold, before they reach a query (SQLite raises
    OverflowError on them instead of finding nothing)."""
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,19}", text) or int(text) > MAX_BIGINT:
        raise forms.ValidationError("Select a valid choice. That choice is not one of the available choices.")


class SafeModelChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        # Words in the empty choice, not Django's "---------".
        kwargs.setdefault("empty_label", "Choose…" if kwargs.get("required", True) else "— none —")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value not in self.empty_values:
            _check_pk(value)
        return super().to_python(value)


def specialists():
    """Active people in the Specialist group: who may own accounts, cases and playbooks."""
    from portal.roles import Role

    return User.objects.filter(groups__name=Role.SPECIALIST, is_active=True).order_by("username")


class SpecialistChoiceField(SafeModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_full_name()} ({obj.username})" if obj.get_full_name() else obj.username


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            _check_pk(pk)
        return super()._check_values(value)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class AwayForm(forms.Form):
    until = BoundedDateTimeField(
        required=False,
        label="Back at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional, in your time zone.",
    )
