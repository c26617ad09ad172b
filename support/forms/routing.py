"""The routing page's forms: moving and switching rules, and the Test form."""

from decimal import Decimal

from django import forms

from accounts.models import Tier, Venue
from disputes.models import DisputeCase
from portal.forms import SafeModelChoiceField


class RuleMoveForm(forms.Form):
    move = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class RuleActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "On"), ("0", "Off")], coerce=lambda v: v == "1")


class RoutingTestForm(forms.Form):
    """A real item (a conversation's Intercom id or a case reference), or one described."""

    item = forms.CharField(
        required=False,
        max_length=40,
        label="Conversation id or case reference",
        help_text="Leave empty to describe one below.",
    )
    kind = forms.ChoiceField(
        choices=[("conversation", "Conversation"), ("case", "Case")], initial="conversation"
    )
    tier = SafeModelChoiceField(queryset=Tier.objects.order_by("rank"), required=False)
    venue = forms.ChoiceField(choices=[("", "— none —"), *Venue.choices], required=False)
    case_category = forms.ChoiceField(
        choices=[("", "— none —"), *DisputeCase.Category.choices], required=False, label="Case category"
    )
    amount = forms.DecimalField(
        required=False, min_value=Decimal(0), max_digits=18, decimal_places=2, label="Amount at stake"
    )
    text = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Title and message"
    )
    intercom_tags = forms.CharField(
        required=False, max_length=500, label="Intercom tags", help_text="Comma-separated."
    )
