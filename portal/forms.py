from django import forms

from portal.models import User, known_time_zones


def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in known_time_zones() if "/" in z or z == "UTC")
    return [(z, z.replace("_", " ")) for z in zones]


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        help_text="Every date and time in the portal is shown in this zone.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "time_zone"]
        labels = {"email": "E-mail (for password resets)"}
