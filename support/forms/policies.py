"""Policy forms of the SLA pages: a policy (targets typed as durations) and its reorder move.
The services decide what may be saved; these forms only turn what a person typed into their
inputs."""

import re

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Tier, Venue
from disputes.models import DisputeCase
from portal.forms import (
    SafeModelChoiceField,
    SafeModelMultipleChoiceField,
)
from support.models import (
    ONE_YEAR_MINUTES,
    BusinessCalendar,
    SlaPolicy,
)
from support.sla.policies import PolicyInput

# ---- policies --------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?$", re.IGNORECASE)


def duration_text(minutes: int | None) -> str:
    """90 -> "1 h 30 min"; 480 -> "8 h"; 45 -> "45 min"; None -> ""."""
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{rest} min"] if rest or not hours else [])
    return " ".join(parts)


class DurationField(forms.CharField):
    """Minutes typed as "90", "1 h 30 min", "8h" or "45 min"; empty is None (no target)."""

    def __init__(self, *, max_minutes: int = ONE_YEAR_MINUTES, **kwargs):
        self.max_minutes = max_minutes
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "maxlength": "30"}

    def prepare_value(self, value):
        return duration_text(value) if isinstance(value, int) else value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        if len(text) > 30:
            raise ValidationError("Write minutes (90) or hours and minutes (1 h 30 min).")
        if text.isdigit():
            minutes = int(text)
        else:
            match = _DURATION.match(text)
            if not match or not any(match.groups()):
                raise ValidationError(
                    f"“{text}” is not a duration: write minutes (90) or hours and minutes (1 h 30 min)."
                )
            minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if minutes > self.max_minutes:
            raise ValidationError(f"At most one year ({self.max_minutes:,} minutes).")
        return minutes


def any_of_field(choices, label: str) -> forms.MultipleChoiceField:
    """A condition as ticks: any of those ticked; none ticked matches anything."""
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any.",
    )


TARGET_HELP = "Working minutes in the policy's calendar: 90, or 1 h 30 min, or 8 h. Empty: no target."


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=SlaPolicy._meta.get_field("name").max_length)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    tiers = SafeModelMultipleChoiceField(
        queryset=Tier.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any.",
    )
    kinds = any_of_field(SlaPolicy.Kind.choices, "Kinds")
    case_categories = any_of_field(DisputeCase.Category.choices, "Case categories")
    priorities = any_of_field(DisputeCase.Priority.choices, "Priorities")
    venues = any_of_field(Venue.choices, "Venues")
    first_response_minutes = DurationField(
        label="First response target", required=False, help_text=TARGET_HELP
    )
    next_response_minutes = DurationField(label="Next response target", required=False, help_text=TARGET_HELP)
    resolution_minutes = DurationField(label="Resolution target", required=False, help_text=TARGET_HELP)
    calendar = SafeModelChoiceField(
        queryset=BusinessCalendar.objects.order_by("name"),
        help_text="The working time targets are counted in.",
    )
    pause_while_waiting = forms.BooleanField(
        label="Pause while waiting on the user",
        required=False,
        initial=True,
        help_text="Stop the clocks while a case waits on the user or a conversation is snoozed.",
    )
    warn_minutes = DurationField(
        label="Warn before a breach",
        initial=15,
        help_text="How long before a target is missed to warn: 15, or 1 h.",
    )

    escalate_on_breach = forms.BooleanField(
        label="Escalate on breach",
        required=False,
        help_text="Raise an escalation and page whoever is on call when a target is breached.",
    )

    def policy_input(self) -> PolicyInput:
        data = self.cleaned_data
        return PolicyInput(
            name=data["name"],
            calendar=data["calendar"],
            tiers=list(data["tiers"]),
            **{name: data[name] for name in SlaPolicy.LIST_CONDITIONS},
            **{name: data[name] for name in SlaPolicy.TARGET_FIELDS},
            is_active=data["is_active"],
            pause_while_waiting=data["pause_while_waiting"],
            warn_minutes=data["warn_minutes"],
            escalate_on_breach=data["escalate_on_breach"],
        )


def policy_initial(policy: SlaPolicy) -> dict:
    return {
        "name": policy.name,
        "is_active": policy.is_active,
        "tiers": [tier.pk for tier in policy.tiers.all()],
        **{name: getattr(policy, name) for name in SlaPolicy.LIST_CONDITIONS},
        **{name: getattr(policy, name) for name in SlaPolicy.TARGET_FIELDS},
        "calendar": policy.calendar_id,
        "pause_while_waiting": policy.pause_while_waiting,
        "warn_minutes": policy.warn_minutes,
        "escalate_on_breach": policy.escalate_on_breach,
    }


class PolicyMoveForm(forms.Form):
    move = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
