"""The routing page's forms: a rule, moving and switching rules, and the Test form."""

from decimal import Decimal

from django import forms

from accounts.models import Tier, Venue
from disputes.models import DisputeCase
from portal.forms import (
    SafeModelChoiceField,
    SafeModelMultipleChoiceField,
    SpecialistChoiceField,
    specialists,
)
from support.forms.policies import any_of_field
from support.models import RoutingRule, RoutingTeam, SlaPolicy


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


def _comma_list(text: str, *, what: str, most: int = 50, longest: int = 100) -> list[str]:
    items = list(dict.fromkeys(t.strip() for t in (text or "").split(",") if t.strip()))
    if len(items) > most:
        raise forms.ValidationError(f"At most {most} {what}; this list has {len(items)}.")
    too_long = next((t for t in items if len(t) > longest), None)
    if too_long:
        raise forms.ValidationError(f"“{too_long[:40]}…” is longer than {longest} characters.")
    return items


# The rule form's two parts, in the order they are shown: When, then Then.
RULE_CONDITIONS = (
    "kinds",
    "tiers",
    "venues",
    "case_categories",
    "min_amount",
    "words",
    "intercom_tags",
    "owner_available",
)
RULE_ACTIONS = ("assign", "person", "team", "when_unavailable", "priority", "sla_policy", "add_tags")


class RuleForm(forms.ModelForm):
    """A routing rule: its conditions (all must hold; empty is any) and what it does. The
    service (routing_rule_save) decides whether the combination may be saved."""

    KINDS = [("conversation", "Conversation"), ("case", "Case")]

    kinds = any_of_field(KINDS, "Kind")
    tiers = SafeModelMultipleChoiceField(
        queryset=Tier.objects.order_by("rank"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any.",
    )
    venues = any_of_field(Venue.choices, "Venue")
    case_categories = any_of_field(DisputeCase.Category.choices, "Case category")
    min_amount = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=2,
        label="Amount at stake at least",
        help_text="Cases only: a conversation has no amount, so a rule with an amount never takes one.",
    )
    words = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Words",
        help_text="In a conversation's title or first message, or a case's claim: one per line or "
        "comma-separated, any case. Any one of them is enough. At most 1,000.",
    )
    intercom_tags = forms.CharField(
        required=False,
        max_length=2000,
        label="Intercom tags",
        help_text="Comma-separated; any one is enough.",
    )
    team = SafeModelChoiceField(
        queryset=RoutingTeam.objects.filter(gone_at__isnull=True).order_by("name"), required=False
    )
    person = SpecialistChoiceField(queryset=specialists(), required=False, label="Person")
    sla_policy = SafeModelChoiceField(
        queryset=SlaPolicy.objects.filter(is_active=True).order_by("position"),
        required=False,
        label="SLA policy",
        help_text="Overrides the policies' own matching for this item's clocks.",
    )
    add_tags = forms.CharField(
        required=False,
        max_length=2000,
        label="Add Intercom tags",
        help_text="Comma-separated; added to the conversation in Intercom (cases have no tags).",
    )

    class Meta:
        model = RoutingRule
        fields = ["name", "is_active", *RULE_CONDITIONS, *RULE_ACTIONS]
        labels = {
            "is_active": "On",
            "owner_available": "The account's owner is",
            "assign": "Give it to",
            "when_unavailable": "When that person is unavailable",
            "priority": "Set the priority",
        }
        help_texts = {
            "priority": "A case's priority; for a conversation, the priority its SLA policy is matched by.",
            "when_unavailable": "For the owner or a named person.",
        }
        widgets = {"assign": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].choices = [("", "— leave it as it is —"), *DisputeCase.Priority.choices]
        self.fields["owner_available"].choices = RoutingRule.OwnerAvailable.choices
        if self.instance.pk:
            self.initial["intercom_tags"] = ", ".join(self.instance.intercom_tags or ())
            self.initial["add_tags"] = ", ".join(self.instance.add_tags or ())

    def clean_intercom_tags(self):
        return _comma_list(self.cleaned_data["intercom_tags"], what="tags")

    def clean_add_tags(self):
        return _comma_list(self.cleaned_data["add_tags"], what="tags")

    def basics(self):
        return [self["name"], self["is_active"]]

    def conditions(self):
        return [self[name] for name in RULE_CONDITIONS]

    def actions(self):
        return [self[name] for name in RULE_ACTIONS]


class TeamForm(forms.ModelForm):
    """A team rules may give work to: its members (Specialists) and the Intercom team it is
    assigned to there as well."""

    members = SafeModelMultipleChoiceField(
        queryset=specialists(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The available member with the fewest open items gets the work.",
    )

    class Meta:
        model = RoutingTeam
        fields = ["name", "intercom_id", "members"]
        labels = {"intercom_id": "Intercom team id"}
        help_texts = {
            "intercom_id": "Digits, as in the team's Intercom address. Conversations given to this team are "
            "assigned to it in Intercom too. Empty: the team exists in the portal only."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].label_from_instance = lambda u: u.get_full_name() or u.username

    def clean_intercom_id(self):
        value = self.cleaned_data["intercom_id"].strip()
        if value and not value.isdigit():
            raise forms.ValidationError("An Intercom team id is digits only, such as 5017691.")
        return value
