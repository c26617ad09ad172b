from django import forms
from django.core.exceptions import ValidationError

from accounts.forms import SpecialistChoiceField
from accounts.models import Account
from accounts.selectors import account_list, specialists
from disputes.models import Decision, DisputeCase, Market, MarketRuleVersion, RulebookSectionVersion
from disputes.selectors import market_list


class CaseForm(forms.Form):
    account = forms.CharField(
        max_length=200, help_text="E-mail, external id or wallet address of the account."
    )
    category = forms.ChoiceField(choices=DisputeCase.Category.choices)
    market = forms.CharField(
        max_length=500, required=False, help_text="Polymarket link, slug or id of an imported market."
    )
    claim = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="What the user says, in their words."
    )
    requested_remedy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    amount_at_stake = forms.DecimalField(min_value=0, max_digits=18, decimal_places=2, initial=0)
    priority = forms.ChoiceField(choices=DisputeCase.Priority.choices, initial=DisputeCase.Priority.NORMAL)
    assignee = SpecialistChoiceField(queryset=specialists(), required=False)
    intercom_conversation_id = forms.CharField(max_length=40, required=False)

    def clean_account(self) -> Account:
        matches = list(account_list(query=self.cleaned_data["account"])[:2])
        if len(matches) != 1:
            raise ValidationError(
                "No single account matches; use the e-mail, external id or a full wallet address."
            )
        return matches[0]

    def clean_market(self) -> Market | None:
        reference = self.cleaned_data["market"].strip()
        if not reference:
            return None
        matches = list(market_list(query=reference)[:2])
        if len(matches) != 1:
            raise ValidationError("No single imported market matches; import it on the Markets page first.")
        return matches[0]


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Internal note", max_length=10_000)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(
        choices=[c for c in DisputeCase.Status.choices if c[0] != "decided"], label="Move to"
    )
    reason = forms.CharField(max_length=500, required=False, help_text="Required when reopening.")
    revision = forms.IntegerField(widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    remedy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    source = forms.ChoiceField(
        label="Cited rule", help_text="The version of the rules the excerpt is quoted from."
    )
    excerpt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Quote the rule text exactly."
    )
    governing_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Needed when the rules changed since filing.",
    )
    amendment_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case: DisputeCase, rulebook_versions, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if case.market_id:
            for version in case.market.rule_versions.order_by("-number"):
                choices.append((f"m{version.pk}", f"Market rules v{version.number}"))
        for version in rulebook_versions:
            choices.append(
                (
                    f"r{version.pk}",
                    f"Rulebook §{version.section.number} {version.section.title} v{version.number}",
                )
            )
        self.fields["source"].choices = choices

    def cited_version(self):
        kind, pk = self.cleaned_data["source"][0], int(self.cleaned_data["source"][1:])
        if kind == "m":
            return {"market_rule_version": MarketRuleVersion.objects.get(pk=pk)}
        return {"rulebook_version": RulebookSectionVersion.objects.select_related("section").get(pk=pk)}
