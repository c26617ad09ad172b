import django_filters
from django import forms

from playbooks.models import Playbook


class PlaybookFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Playbook.Category.choices, empty_label="Any category")
    status = django_filters.ChoiceFilter(choices=Playbook.Status.choices, empty_label="Any status")
    stale = django_filters.BooleanFilter(
        method="filter_stale",
        label="Review",
        widget=forms.Select(choices=[("", "Any"), ("true", "Past its review date"), ("false", "Up to date")]),
    )

    class Meta:
        model = Playbook
        fields = ["category", "status"]
        form = forms.Form

    def filter_stale(self, queryset, name, value):
        return queryset.stale() if value else queryset.up_to_date()
