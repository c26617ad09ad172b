"""The queue's filters: whose items, tier, kind and SLA state."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.filters import SafeModelChoiceFilter
from accounts.models import Tier
from portal.roles import Role, has_role
from support.models import SlaClock, SlaPolicy
from support.selectors import QueueState, queue_assigned, queue_state_filter

WHO = [("mine", "Mine"), ("unassigned", "Unassigned"), ("everyone", "Everyone")]


def default_who(user) -> str:
    """Specialists open their own items; Leadership and Admins everyone's."""
    return "mine" if has_role(user, Role.SPECIALIST) and not user.is_superuser else "everyone"


class QueueFilter(django_filters.FilterSet):
    """Filters on the queue's rows (each an item's most urgent running clock). `who` always has
    a value: the view fills in `default_who` when the query string has none."""

    who = django_filters.ChoiceFilter(choices=WHO, method="filter_who", label="Assigned to", empty_label=None)
    tier = SafeModelChoiceFilter(
        queryset=Tier.objects.order_by("rank"), method="filter_tier", label="Tier", empty_label="Any tier"
    )
    kind = django_filters.ChoiceFilter(
        choices=SlaPolicy.Kind.choices,
        method="filter_kind",
        label="Kind",
        empty_label="Conversations and cases",
    )
    sla = django_filters.ChoiceFilter(
        choices=QueueState.choices, method="filter_sla", label="SLA", empty_label="Any"
    )

    class Meta:
        model = SlaClock
        fields = ["who", "tier", "kind", "sla"]
        form = forms.Form

    def filter_who(self, queryset, name, value):
        return queryset.filter(queue_assigned(value, self.request.user))

    def filter_tier(self, queryset, name, value):
        return queryset.filter(Q(conversation__account__tier=value) | Q(case__account__tier=value))

    def filter_kind(self, queryset, name, value):
        # Named as the partial indexes of each kind's queue are, so the database uses them.
        if value == SlaPolicy.Kind.CONVERSATION:
            return queryset.filter(conversation__isnull=False)
        return queryset.filter(case__isnull=False)

    def filter_sla(self, queryset, name, value):
        return queryset.filter(queue_state_filter(value, timezone.now()))
