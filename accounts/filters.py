import django_filters
from django import forms
from django.utils import timezone

from accounts.models import Account, Tier
from accounts.selectors import due_state_filter
from portal.forms import SafeModelChoiceField, SpecialistChoiceField, specialists

DUE_STATES = [
    ("overdue", "Overdue"),
    ("due_soon", "Due within 7 days"),
    ("on_track", "On track"),
    ("none", "No check-in due (paused or offboarded)"),
]


class OwnerFilter(django_filters.ModelChoiceFilter):
    field_class = SpecialistChoiceField


class SafeModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = SafeModelChoiceField


class AccountFilter(django_filters.FilterSet):
    owner = OwnerFilter(queryset=specialists(), empty_label="Everyone")
    tier = SafeModelChoiceFilter(queryset=Tier.objects.all(), empty_label="Any tier")
    status = django_filters.ChoiceFilter(choices=Account.Status.choices, empty_label="Any status")
    due = django_filters.ChoiceFilter(
        choices=DUE_STATES, method="filter_due", label="Check-in", empty_label="Any"
    )

    class Meta:
        model = Account
        fields = ["owner", "tier", "status", "due"]
        form = forms.Form

    def filter_due(self, queryset, name, value):
        return queryset.filter(due_state_filter(value, timezone.now()))
