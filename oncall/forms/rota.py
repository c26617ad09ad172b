"""Forms of the rota pages. They turn what a person typed into the services' inputs (usernames
into people, local times into instants in the viewer's zone); the services decide what may be
saved."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from oncall.models import Rota, RotaLayer, RotaOverride
from oncall.selectors.rota import on_call_users
from oncall.services.rota import (
    MAX_NOTE_CHARS,
    LayerInput,
    default_layer_name,
    layer_field,
)
from portal.forms import (
    BoundedDateField,
    BoundedDateTimeField,
    SafeModelChoiceField,
    SpecialistChoiceField,
    add_service_errors,
    time_zone_choices,
)
from portal.models import User

FORM_LAYERS = 3  # layers the form offers; the service takes more


def layer_name_field(position: int) -> str:
    return f"layer_{position}_name"


def parse_usernames(text: str) -> list[str]:
    """ "ana, ben\\ncarl" -> ["ana", "ben", "carl"]: separated by commas, semicolons, spaces or
    new lines, in order."""
    return [name for name in re.split(r"[,;\s]+", text or "") if name]


class RotaForm(forms.Form):
    name = forms.CharField(max_length=Rota._meta.get_field("name").max_length)
    time_zone = forms.ChoiceField(
        choices=time_zone_choices, help_text="Hand-offs happen at the hand-off time in this zone."
    )
    starts_on = BoundedDateField(
        label="First hand-off on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The local date of the first shift's start: the first person listed in each layer takes it.",
    )
    handoff_time = forms.TimeField(
        label="Hand-off time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Local wall-clock time; it stays put across daylight-saving changes.",
    )
    rotation_days = forms.IntegerField(
        label="Shift length (days)", help_text="7 is a week; from 1 to 90.", widget=forms.NumberInput
    )
    webhook_url = forms.CharField(
        label="Chat webhook",
        required=False,
        max_length=Rota._meta.get_field("webhook_url").max_length,
        help_text="A Slack-compatible incoming webhook that every page of this rota also goes to.",
    )
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="An inactive rota pages nobody and leaves /oncall/."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for position in range(1, FORM_LAYERS + 1):
            default = default_layer_name(position)
            self.fields[layer_name_field(position)] = forms.CharField(
                label=f"Layer {position} name",
                required=False,
                max_length=RotaLayer._meta.get_field("name").max_length,
                widget=forms.TextInput(attrs={"placeholder": default}),
                help_text=f"“{default}” when empty.",
            )
            self.fields[layer_field(position)] = forms.CharField(
                label=f"Layer {position} people, in order",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=(
                    "Usernames in rotation order, separated by commas or new lines. The primary "
                    "(layer 1) is paged first."
                    if position == 1
                    else "Empty for no such layer."
                ),
            )
        self.layers: list[LayerInput] = []

    def clean(self):
        cleaned = super().clean()
        typed = {
            position: parse_usernames(cleaned.get(layer_field(position), ""))
            for position in range(1, FORM_LAYERS + 1)
        }
        wanted = {name for names in typed.values() for name in names}
        people = {u.username: u for u in User.objects.filter(username__in=wanted)} if wanted else {}
        last_used = max((p for p, names in typed.items() if names), default=0)
        self.layers = []
        for position in range(1, FORM_LAYERS + 1):
            names = typed[position]
            layer_name = (cleaned.get(layer_name_field(position)) or "").strip()
            if not names:
                if position < last_used:
                    self.add_error(
                        layer_field(position),
                        f"Fill the layers in order: layer {position} is empty but layer {last_used} is not.",
                    )
                elif layer_name:
                    self.add_error(
                        layer_field(position),
                        f"{layer_name}: list at least one person, or clear the name to remove the layer.",
                    )
                continue
            unknown = [name for name in names if name not in people]
            if unknown:
                self.add_error(
                    layer_field(position), f"No one is called {', '.join(f'“{n}”' for n in unknown)}."
                )
                continue
            self.layers.append(LayerInput(layer_name, [people[name] for name in names]))
        return cleaned

    def settings_fields(self) -> list:
        return [field for field in self.visible_fields() if not field.name.startswith("layer_")]

    def layer_fields(self) -> list[tuple[int, list]]:
        """(position, [its name field, its people field]) for each layer the form offers."""
        return [
            (position, [self[layer_name_field(position)], self[layer_field(position)]])
            for position in range(1, FORM_LAYERS + 1)
        ]

    def add_rota_errors(self, error: ValidationError) -> None:
        """A rota service error on the page: a layer's problems on its people field, the rest
        on their own fields."""
        by_field = dict(error.message_dict)
        for message in by_field.pop("layers", []):
            self.add_error(layer_field(1), message)
        if by_field:
            add_service_errors(self, ValidationError(by_field))


def rota_initial(rota: Rota) -> dict:
    """The form's values for an existing rota (layers and members prefetched or not)."""
    initial = {
        "name": rota.name,
        "time_zone": rota.time_zone,
        "starts_on": rota.starts_on,
        "handoff_time": rota.handoff_time,
        "rotation_days": rota.rotation_days,
        "webhook_url": rota.webhook_url,
        "is_active": rota.is_active,
    }
    for layer in rota.layers.prefetch_related("members__user").order_by("position"):
        initial[layer_name_field(layer.position)] = layer.name
        initial[layer_field(layer.position)] = ", ".join(
            m.user.username for m in sorted(layer.members.all(), key=lambda m: m.position)
        )
    return initial


class OverrideForm(forms.Form):
    layer = SafeModelChoiceField(queryset=RotaLayer.objects.none(), empty_label=None)
    user = SpecialistChoiceField(
        label="Who covers", queryset=User.objects.none(), help_text="An active Specialist or Admin."
    )
    starts_at = BoundedDateTimeField(
        label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    ends_at = BoundedDateTimeField(
        label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    reason = forms.ChoiceField(choices=RotaOverride.Reason.choices)
    note = forms.CharField(
        required=False, max_length=RotaOverride._meta.get_field("note").max_length, label="Note"
    )

    def __init__(self, *args, rota: Rota, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["layer"].queryset = RotaLayer.objects.filter(rota=rota).order_by("position")
        self.fields["user"].queryset = on_call_users()
        zone = timezone.get_current_timezone_name()
        for name in ("starts_at", "ends_at"):
            self.fields[name].help_text = f"Your local time ({zone})."


class HandoffNoteForm(forms.Form):
    body = forms.CharField(
        label="Hand-off note",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_NOTE_CHARS}),
        help_text="What the next person on call needs to know: open escalations, anything brewing.",
    )
