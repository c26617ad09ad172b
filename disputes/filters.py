import django_filters
from django import forms

from accounts.models import Venue
from disputes.models import Market

UMA_STATUSES = [(s, s.capitalize()) for s in ("proposed", "disputed", "resolved")] + [("none", "None")]


class MarketFilter(django_filters.FilterSet):
    venue = django_filters.ChoiceFilter(choices=Venue.choices, empty_label="Any venue")
    state = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("closed", "Closed"), ("resolved", "Resolved")],
        method="filter_state",
        empty_label="Open or closed",
        label="State",
    )
    uma = django_filters.ChoiceFilter(
        choices=UMA_STATUSES, method="filter_uma", empty_label="Any", label="UMA status"
    )
    clarified = django_filters.BooleanFilter(
        method="filter_clarified",
        label="Clarifications",
        widget=forms.Select(choices=[("", "Any"), ("true", "Has clarifications"), ("false", "None")]),
    )

    class Meta:
        model = Market
        fields = ["venue"]
        form = forms.Form

    def filter_state(self, queryset, name, value):
        return {
            "open": queryset.filter(is_closed=False),
            "closed": queryset.filter(is_closed=True),
            "resolved": queryset.filter(is_resolved=True),
        }[value]

    def filter_uma(self, queryset, name, value):
        return queryset.filter(uma_status="" if value == "none" else value)

    def filter_clarified(self, queryset, name, value):
        return queryset.filter(clarification_count__gt=0) if value else queryset.filter(clarification_count=0)
