from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Account
from accounts.selectors import account_list
from feedback.models import FeedbackItem, ProductArea
from portal.forms import SafeModelChoiceField


def _single_account(reference: str) -> Account:
    matches = list(account_list(query=reference)[:2])
    if len(matches) != 1:
        raise ValidationError(
            "No single account matches; use the e-mail, external id or a full wallet address."
        )
    return matches[0]


class FeedbackForm(forms.Form):
    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=FeedbackItem.Category.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20_000)
    severity = forms.ChoiceField(choices=FeedbackItem.Severity.choices, initial=FeedbackItem.Severity.MINOR)
    area = SafeModelChoiceField(queryset=ProductArea.objects.filter(is_active=True), required=False)
    account = forms.CharField(
        max_length=200, required=False, help_text="The account that raised it: e-mail, external id or wallet."
    )
    note = forms.CharField(max_length=500, required=False, label="What they said")
    intercom_conversation_id = forms.CharField(
        max_length=40, required=False, label="Intercom conversation id"
    )

    dispute_case = forms.CharField(
        max_length=30, required=False, label="Dispute case", help_text="DSP-… reference"
    )

    def clean_dispute_case(self):
        from django.http import Http404

        from disputes.models import DisputeCase
        from disputes.selectors import reference_parts

        reference = self.cleaned_data["dispute_case"].strip()
        if not reference:
            return None
        try:
            year, number = reference_parts(reference)
            return DisputeCase.objects.get(year=year, number=number)
        except (Http404, DisputeCase.DoesNotExist):
            raise ValidationError("No case has that reference.") from None

    def clean_account(self):
        reference = self.cleaned_data["account"].strip()
        return _single_account(reference) if reference else None


class LinkAccountForm(forms.Form):
    account = forms.CharField(max_length=200, help_text="E-mail, external id or wallet address.")
    note = forms.CharField(max_length=500, required=False, label="What they said")

    def clean_account(self):
        return _single_account(self.cleaned_data["account"].strip())


class TriageForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in FeedbackItem.Status.choices if c[0] != "duplicate"])
    owner_team = forms.ChoiceField(choices=FeedbackItem.Team.choices, label="Owner team")
    area = SafeModelChoiceField(queryset=ProductArea.objects.all(), required=False)
    severity = forms.ChoiceField(choices=FeedbackItem.Severity.choices)
    tracker_url = forms.URLField(max_length=500, required=False, label="Tracker link", assume_scheme="https")


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Comment")


class MergeForm(forms.Form):
    into = forms.IntegerField(min_value=1, max_value=2**63 - 1, label="Merge into item #")
