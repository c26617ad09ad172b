import django_filters
from django import forms

from accounts.filters import SafeModelChoiceFilter
from feedback.models import FeedbackItem, ProductArea


class FeedbackFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FeedbackItem.Status.choices, empty_label="Open items")
    category = django_filters.ChoiceFilter(choices=FeedbackItem.Category.choices, empty_label="Any category")
    area = SafeModelChoiceFilter(queryset=ProductArea.objects.all(), empty_label="Any area")
    owner_team = django_filters.ChoiceFilter(
        choices=FeedbackItem.Team.choices, empty_label="Any team", label="Team"
    )
    severity = django_filters.ChoiceFilter(choices=FeedbackItem.Severity.choices, empty_label="Any severity")

    class Meta:
        model = FeedbackItem
        fields = ["status", "category", "area", "owner_team", "severity"]
        form = forms.Form

    def __init__(self, *args, open_only_by_default: bool = True, **kwargs):
        self.open_only_by_default = open_only_by_default
        super().__init__(*args, **kwargs)
        if not open_only_by_default:
            self.filters["status"].extra["empty_label"] = "Any status"

    @property
    def qs(self):
        items = super().qs
        if not self.open_only_by_default:
            return items.exclude(status="duplicate")
        if not (self.form.is_valid() and self.form.cleaned_data.get("status")):
            # By default the log shows what is still open: not shipped, declined or merged.
            items = items.exclude(status__in=["shipped", "declined", "duplicate"])
        return items
