import datetime as dt

import django_filters
from django import forms
from django.utils import timezone

from accounts.filters import SafeModelChoiceFilter
from accounts.models import Account, Venue
from disputes.models import Decision, DisputeCase, Market, RulebookSection, RuleCitation
from portal.forms import specialists

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


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DisputeCase.Status.choices, empty_label="Any status")
    category = django_filters.ChoiceFilter(choices=DisputeCase.Category.choices, empty_label="Any category")
    venue = django_filters.ChoiceFilter(choices=Venue.choices, empty_label="Any venue")
    assignee = SafeModelChoiceFilter(queryset=specialists(), empty_label="Anyone")
    # Set by links from a market or account page; hidden, since a select of every market
    # would be thousands of options.
    market = SafeModelChoiceFilter(queryset=Market.objects.all(), widget=forms.HiddenInput)
    account = SafeModelChoiceFilter(queryset=Account.objects.all(), widget=forms.HiddenInput)
    sla = django_filters.ChoiceFilter(
        choices=[("breached", "Breached"), ("due_soon", "Due within 24 hours")],
        method="filter_sla",
        label="SLA",
        empty_label="Any",
    )

    class Meta:
        model = DisputeCase
        fields = ["status", "category", "venue", "assignee", "market", "account"]
        form = forms.Form

    def filter_sla(self, queryset, name, value):
        now = timezone.now()
        open_cases = queryset.filter(status__in=DisputeCase.OPEN_STATUSES)
        if value == "breached":
            return open_cases.filter(resolution_due__lt=now)
        return open_cases.filter(resolution_due__gte=now, resolution_due__lt=now + dt.timedelta(hours=24))


class DecisionFilter(django_filters.FilterSet):
    """Past decisions by the rule they cite. Each citation filter narrows by a subquery of
    decision ids, so no join multiplies rows and no DISTINCT sorts every decision."""

    section = SafeModelChoiceFilter(
        queryset=RulebookSection.objects.order_by("venue", "number"),
        method="filter_section",
        label="Cites rulebook section",
        empty_label="Any section",
    )
    market = SafeModelChoiceFilter(
        queryset=Market.objects.all(), method="filter_market", label="Market", widget=forms.HiddenInput
    )
    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices, empty_label="Any outcome")
    excerpt = django_filters.CharFilter(method="filter_excerpt", label="Quoted words", max_length=200)

    class Meta:
        model = Decision
        fields = ["section", "market", "outcome", "excerpt"]
        form = forms.Form

    @staticmethod
    def _citing(queryset, **lookup):
        return queryset.filter(pk__in=RuleCitation.objects.filter(**lookup).values("decision_id"))

    def filter_section(self, queryset, name, value):
        return self._citing(queryset, rulebook_version__section=value)

    def filter_market(self, queryset, name, value):
        return self._citing(queryset, market_rule_version__market=value)

    def filter_excerpt(self, queryset, name, value):
        return self._citing(queryset, excerpt__icontains=value)
