from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.forms import DATETIME_LOCAL
from accounts.models import Account, venue_currency
from accounts.selectors import account_list
from disputes.models import (
    Decision,
    DisputeCase,
    EvidenceItem,
    Market,
    MarketRuleVersion,
    RulebookSectionVersion,
)
from disputes.selectors import market_list, rulebook_in_force
from disputes.services import snapshots
from disputes.services.cases import rules_changed_since_filing
from portal.forms import (
    BoundedDateTimeField,
    SafeModelMultipleChoiceField,
    SpecialistChoiceField,
    specialists,
)


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
    assignee = SpecialistChoiceField(queryset=specialists(), required=False, empty_label="Nobody yet")
    intercom_conversation_id = forms.CharField(max_length=40, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Shown instead of "(optional)" (includes/_form.html): the service requires it by this rule.
        self.fields["market"].required_when = "required for market-resolution cases"
        self.fields["amount_at_stake"].label = f"Amount at stake ({self._currency()})"

    def _currency(self) -> str:
        """The currency of the account being filed for, once the form names exactly one."""
        reference = str((self.data if self.is_bound else self.initial).get("account") or "").strip()
        matches = (
            list(account_list(query=reference).select_related(None).only("venue")[:2]) if reference else []
        )
        if len(matches) == 1:
            return venue_currency(matches[0].venue)
        return "USDC; USD for Polymarket US accounts"

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


class ConversationLinkForm(forms.Form):
    intercom_conversation_id = forms.CharField(
        max_length=60,
        required=False,
        label="Intercom conversation id",
        help_text="The number at the end of the conversation's address in the inbox; empty to unlink.",
    )


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Internal note", max_length=10_000)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(
        choices=[c for c in DisputeCase.Status.choices if c[0] != "decided"], label="Move to"
    )
    reason = forms.CharField(max_length=500, required=False, help_text="Required when reopening.")
    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, allowed: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            # Offer only the moves the workflow allows; any other value still reaches the
            # service, which explains why it is refused.
            self.fields["to"].widget.choices = [c for c in self.fields["to"].choices if c[0] in allowed]


DIFFERS_RULE = (
    "required when the outcome differs from earlier decisions on the same market or rulebook section"
)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=20_000)
    remedy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5_000)
    # Present only when the market's rules changed since filing, and then required.
    governing_version = forms.TypedChoiceField(
        coerce=int,
        label="Governing rules",
        help_text="The market’s rules changed since filing: which version decides this case?",
        error_messages={
            "required": "The market’s rules changed since filing: choose the version that governs."
        },
    )
    governing_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5_000,
        label="Why that version governs",
        error_messages={"required": "Say why that version governs; the reason is kept with the decision."},
    )
    consistency_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5_000,
        label="Why this case differs",
        help_text="Read the related decisions first; the note is kept with the decision.",
    )
    # Present only on a decided case, and then required.
    amendment_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5_000,
        error_messages={"required": "This case is decided; say why the decision is amended."},
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)

    def __init__(self, *args, case: DisputeCase, rules_changed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        # Shown instead of "(optional)" (includes/_form.html): the service requires it by this rule.
        self.fields["consistency_note"].required_when = DIFFERS_RULE
        if rules_changed:
            self.fields["governing_version"].choices = [
                ("", "Choose…"),
                (case.rule_version_id, f"v{case.rule_version.number}, in force at filing"),
                (case.market.current_version_id, f"v{case.market.current_version.number}, in force now"),
            ]
        else:
            del self.fields["governing_version"]
            del self.fields["governing_reason"]
        if case.status != DisputeCase.Status.DECIDED:
            del self.fields["amendment_reason"]

    def clean_governing_version(self) -> MarketRuleVersion | None:
        pk = self.cleaned_data.get("governing_version")
        if pk in (None, ""):
            return None
        return MarketRuleVersion.objects.get(pk=pk)


class CitationForm(forms.Form):
    source = forms.ChoiceField(label="Cited rule", required=False)
    excerpt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5_000,
        help_text="Quote the rule text exactly; white space and curly quotes don’t matter.",
    )

    def __init__(self, *args, sources: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Choose…"), *sources]

    def clean(self):
        data = super().clean()
        if data.get("excerpt", "").strip() and not data.get("source"):
            self.add_error("source", "Choose the rule the excerpt is quoted from.")
        if data.get("source") and not data.get("excerpt", "").strip():
            self.add_error("excerpt", "Quote the words of the rule you rely on.")
        return data


class BaseCitationFormSet(forms.BaseFormSet):
    def __init__(self, *args, sources, **kwargs):
        self.sources = sources
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "sources": self.sources}

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if i == 0:  # a decision cites at least one rule: the first row is not optional
            form.fields["source"].required = True
            form.fields["source"].error_messages["required"] = "Choose the rule the decision rests on."
            form.fields["excerpt"].required = True
            form.fields["excerpt"].error_messages["required"] = (
                "Quote the words of the rule the decision rests on."
            )
        return form

    @property
    def empty_form(self):
        return self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), sources=self.sources)

    def citations(self) -> list:
        """CitationInputs of the filled rows, resolving each source to its version."""
        from disputes.services.cases import CitationInput

        found = []
        for form in self.forms:
            source = form.cleaned_data.get("source")
            if not source:
                continue
            kind, pk = source[0], int(source[1:])
            if kind == "m":
                version = {"market_rule_version": MarketRuleVersion.objects.get(pk=pk)}
            else:
                version = {
                    "rulebook_version": RulebookSectionVersion.objects.select_related("section").get(pk=pk)
                }
            found.append(CitationInput(excerpt=form.cleaned_data["excerpt"], **version))
        return found


CitationFormSet = forms.formset_factory(
    CitationForm, formset=BaseCitationFormSet, extra=3, max_num=10, absolute_max=10, validate_max=True
)


def citation_sources(case: DisputeCase, rulebook_versions) -> list[tuple[str, str]]:
    """What a decision may cite: every version of the case's market rules and the rulebook
    sections of its venue as they stand now."""
    sources = []
    if case.market_id:
        for version in case.market.rule_versions.order_by("-number"):
            sources.append((f"m{version.pk}", f"Market rules v{version.number}"))
    for version in rulebook_versions:
        sources.append(
            (
                f"r{version.pk}",
                f"Rulebook §{version.section.number} {version.section.title} v{version.number}",
            )
        )
    return sources


def decision_forms(case: DisputeCase, data=None) -> tuple["DecisionForm", BaseCitationFormSet]:
    """The decision form and its citation rows, for a case page or a posted decision."""
    sources = citation_sources(case, rulebook_in_force(venue=case.venue))
    form = DecisionForm(
        data, case=case, rules_changed=rules_changed_since_filing(case), initial={"revision": case.revision}
    )
    citations = CitationFormSet(data, prefix="citation", sources=sources)
    return form, citations


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceItem.Kind.choices, label="Evidence")
    value = forms.CharField(
        max_length=600,
        required=False,
        label="Id, hash, address or link",
        help_text="Order id or transaction hash (0x + 64 hex), trade id (UUID), wallet address or an https link.",
    )
    upload = forms.FileField(required=False, label="File", allow_empty_file=True)
    description = forms.CharField(max_length=300, required=False, help_text="What it shows.")

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == EvidenceItem.Kind.FILE and not data.get("upload"):
            self.add_error("upload", "Choose the file to attach.")
        if kind and kind != EvidenceItem.Kind.FILE and not (data.get("value") or "").strip():
            self.add_error("value", "Enter the id, hash, address or link.")
        return data


class WalletSnapshotForm(forms.Form):
    wallet_address = forms.CharField(max_length=42, label="Wallet", help_text="The profile (proxy) wallet.")
    start = BoundedDateTimeField(label="From", widget=DATETIME_LOCAL, help_text="In your time zone.")
    end = BoundedDateTimeField(label="To", widget=DATETIME_LOCAL)


def wallet_snapshot_form(case: DisputeCase) -> WalletSnapshotForm:
    """The snapshot form filled with the account's first wallet and the case's default window."""
    start, end = snapshots.default_window(case)
    wallet = case.account.wallets.order_by("pk").first()
    return WalletSnapshotForm(
        initial={
            "wallet_address": wallet.address if wallet else "",
            "start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "end": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
        }
    )


class CaseBulkForm(forms.Form):
    """Bulk assign or bulk status change of cases selected on a market page."""

    ACTIONS = [("assign", "Assign to"), ("status", "Move to status")]

    selected = SafeModelMultipleChoiceField(
        queryset=DisputeCase.objects.all(),
        error_messages={"required": "Select at least one case in the table."},
    )
    action = forms.ChoiceField(choices=ACTIONS)
    assignee = SpecialistChoiceField(
        queryset=specialists(), required=False, label="Specialist", empty_label="Nobody (unassign)"
    )
    to = forms.ChoiceField(
        choices=[("", "—"), *[c for c in DisputeCase.Status.choices if c[0] != "decided"]],
        required=False,
        label="Status",
    )
    reason = forms.CharField(max_length=500, required=False, help_text="Required when reopening.")

    def clean(self):
        data = super().clean()
        if data.get("action") == "status" and not data.get("to"):
            self.add_error("to", "Choose the status to move the cases to.")
        return data


class ReplyForm(forms.Form):
    template = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    subject = forms.CharField(max_length=300, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), max_length=200_000, label="Reply")
