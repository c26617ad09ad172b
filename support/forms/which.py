"""The which-policy tool's form: the conversation or case to look up."""

from django import forms


class WhichPolicyForm(forms.Form):
    item = forms.CharField(
        label="Conversation id or case reference",
        max_length=60,
        help_text="An Intercom conversation id (215470001234) or a case reference (DSP-2026-00042).",
    )

    def clean_item(self):
        return self.cleaned_data["item"].strip()
