from django import forms

from accounts.models import Venue
from portal.forms import BoundedDateField, BoundedDateTimeField

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MarketImportForm(forms.Form):
    reference = forms.CharField(
        max_length=500,
        label="Polymarket link, slug, id or condition id",
        help_text="An event link imports every market of the event.",
    )


class ClarificationForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="Exactly as published.")
    source_url = forms.URLField(
        max_length=500, required=False, label="Where it was published", assume_scheme="https"
    )
    published_at = BoundedDateTimeField(widget=DATETIME_LOCAL, help_text="In your time zone.")


class ManualMarketForm(forms.Form):
    question = forms.CharField(max_length=500)
    venue = forms.ChoiceField(choices=Venue.choices, initial=Venue.US)
    outcomes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), initial="Yes\nNo", help_text="One per line."
    )
    rules_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label="Rules")
    resolution_source = forms.CharField(max_length=500, required=False)
    end_date = BoundedDateTimeField(widget=DATETIME_LOCAL, required=False)
    slug = forms.SlugField(max_length=255, required=False)


class ManualRulesForm(forms.Form):
    rules_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), label="Rules")
    resolution_source = forms.CharField(max_length=500, required=False)


class RulesAtForm(forms.Form):
    at = BoundedDateTimeField(
        widget=DATETIME_LOCAL, label="Rules in force at", help_text="In your time zone."
    )


class RulebookSectionForm(forms.Form):
    venue = forms.ChoiceField(choices=Venue.choices)
    number = forms.CharField(max_length=20, help_text="Such as 4 or 4.2.")
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}))
    effective_from = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
