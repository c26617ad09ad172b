"""Raising and resolving an escalation."""

from django import forms

from oncall.models import Escalation


class RaiseForm(forms.Form):
    severity = forms.ChoiceField(
        choices=Escalation.Severity.choices,
        initial=Escalation.Severity.SEV2,
        help_text="SEV1: money or many traders at risk now; SEV2: one trader blocked; SEV3: needs a person today.",
    )
    summary = forms.CharField(max_length=300, help_text="One line the person paged reads first.")


class ResolveForm(forms.Form):
    note = forms.CharField(max_length=250, required=False, label="What was done (optional)")
