import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account, CheckIn, Tier
from accounts.services import MAX_SNOOZE_DAYS, WalletInput
from accounts.services.portfolio import ACCOUNT_FIELDS
from accounts.wallets import normalise_address
from portal.forms import (
    BoundedDateField,
    BoundedDateTimeField,
    SafeModelChoiceField,
    SafeModelMultipleChoiceField,
    SpecialistChoiceField,
    specialists,
    time_zone_choices,
)
from portal.models import User

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AccountForm(forms.ModelForm):
    owner = SpecialistChoiceField(queryset=specialists())
    tier = SafeModelChoiceField(queryset=Tier.objects.all())
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC")
    wallets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Polygon profile (proxy) wallet addresses, one per line.",
    )

    class Meta:
        model = Account
        fields = ACCOUNT_FIELDS
        labels = {
            "display_name": "Account name",
            "email": "Primary e-mail",
            "external_id": "External user id",
            "intercom_contact_id": "Intercom contact id",
            "cadence_override_days": "Cadence override (days)",
            "volume_30d_usd": "30-day volume (USD)",
            "volume_prior_30d_usd": "Previous 30-day volume (USD)",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"display_name": "How the team knows the trader: their name or Polymarket handle."}

    def __init__(self, *args, with_wallets: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_wallets:
            del self.fields["wallets"]
        if self.instance.pk:
            # An account may keep an owner who has since left; only a change must go to an
            # active Specialist (the service checks that).
            self.fields["owner"].queryset = (
                specialists() | User.objects.filter(pk=self.instance.owner_id)
            ).distinct()

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not any(unicodedata.category(ch)[0] in "LNPS" for ch in name):
            raise ValidationError("Give the account a name with visible letters or digits.")
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_wallets(self):
        wallets, errors = [], []
        for line in self.cleaned_data.get("wallets", "").splitlines():
            if not line.strip():
                continue
            try:
                wallets.append(WalletInput(address=normalise_address(line)))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        if len({w.address for w in wallets}) != len(wallets):
            raise ValidationError("The same wallet address is listed twice.")
        return wallets

    def account_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CheckInForm(forms.ModelForm):
    occurred_at = BoundedDateTimeField(
        label="When",
        widget=DATETIME_LOCAL,
        help_text="In your time zone. Back-date it if it happened earlier.",
    )
    follow_up_due = BoundedDateField(label="Follow-up due", widget=DATE_INPUT, required=False)

    class Meta:
        model = CheckIn
        fields = ["occurred_at", "kind", "channel", "sentiment", "summary", "follow_up", "follow_up_due"]
        labels = {
            "occurred_at": "When",
            "follow_up": "Follow-up",
            "follow_up_due": "Follow-up due",
        }
        widgets = {
            "occurred_at": DATETIME_LOCAL,
            "summary": forms.Textarea(attrs={"rows": 3}),
            "follow_up_due": DATE_INPUT,
        }
        help_texts = {"occurred_at": "In your time zone. Back-date it if it happened earlier."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        stored = self.instance.occurred_at if self.instance.pk else None
        if value and stored and value == stored.replace(second=0, microsecond=0):
            return stored  # the field shows minutes: left as it was, it keeps the stored time
        return value

    def clean(self):
        data = super().clean()
        if data.get("follow_up_due") and not (data.get("follow_up") or "").strip():
            self.add_error("follow_up", "Describe the follow-up that is due.")
        return data


class SnoozeForm(forms.Form):
    days = forms.IntegerField(
        min_value=1, max_value=MAX_SNOOZE_DAYS, initial=3, help_text=f"1 to {MAX_SNOOZE_DAYS} days."
    )
    reason = forms.CharField(max_length=200, help_text="Kept in the account's timeline.")


class WalletForm(forms.Form):
    """A plain form: uniqueness is checked by the service, which names the account that
    already holds the address."""

    address = forms.CharField(max_length=60, help_text="0x followed by 40 hexadecimal characters.")
    label = forms.CharField(max_length=60, required=False)
    is_proxy = forms.BooleanField(label="Profile (proxy) wallet", required=False, initial=True)

    def clean_address(self):
        return normalise_address(self.cleaned_data["address"])


class ReassignForm(forms.Form):
    selected = SafeModelMultipleChoiceField(
        queryset=Account.objects.all(),
        error_messages={"required": "Select at least one account in the table."},
    )
    to = SpecialistChoiceField(queryset=specialists(), label="New owner")
    reason = forms.CharField(max_length=200, required=False)


class PortfolioReassignForm(forms.Form):
    # Every specialist, and anyone else who still owns accounts (someone already deactivated).
    from_owner = SpecialistChoiceField(
        queryset=(specialists() | User.objects.filter(accounts__isnull=False))
        .distinct()
        .order_by("username"),
        label="Move every account of",
    )
    to = SpecialistChoiceField(queryset=specialists(), label="To")
    reason = forms.CharField(
        max_length=200, required=False, help_text="For example: “on leave until 3 March”."
    )

    def clean(self):
        data = super().clean()
        if data.get("from_owner") and data.get("from_owner") == data.get("to"):
            raise ValidationError("Choose two different specialists.")
        return data
