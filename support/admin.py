"""SLA calendars and policies in the Django admin, held to the same rules as the portal's
services (support.sla.calendars, support.sla.policies): the forms run their checks, and the
admin saves a change in one transaction. Deleting goes through the portal, which refuses to
delete what is in use; here a calendar in use is protected by its foreign key."""

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from accounts.models import Venue
from disputes.models import DisputeCase
from support.models import (
    BusinessCalendar,
    Holiday,
    OpeningWindow,
    RoutingDecision,
    RoutingRule,
    RoutingTeam,
    SlaPolicy,
)
from support.sla.calendars import (
    HolidayInput,
    WindowInput,
    holidays_problems,
    time_zone_problems,
    windows_problems,
)
from support.sla.policies import PolicyInput, policy_problems


def _kept_rows(formset):
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE") and not form.errors
    ]


class OpeningWindowFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        windows = [WindowInput(r["weekday"], r["start_minute"], r["end_minute"]) for r in _kept_rows(self)]
        problems = windows_problems(windows)
        if problems and not any(form.errors for form in self.forms):
            raise ValidationError(problems)


class HolidayFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        problems = holidays_problems(
            [HolidayInput(r["name"], r["first_day"], r["last_day"]) for r in _kept_rows(self)]
        )
        if problems:
            raise ValidationError(problems)


class OpeningWindowInline(admin.TabularInline):
    model = OpeningWindow
    formset = OpeningWindowFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    formset = HolidayFormSet
    extra = 0


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ("name", "time_zone", "description")

    def clean_time_zone(self):
        time_zone = self.cleaned_data["time_zone"]
        problems = time_zone_problems(time_zone)
        if problems:
            raise ValidationError(problems)
        return time_zone


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ("name", "time_zone", "updated_at")
    search_fields = ("name",)
    inlines = (OpeningWindowInline, HolidayInline)


def _codes(choices):
    return forms.MultipleChoiceField(
        choices=choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: any."
    )


class SlaPolicyForm(forms.ModelForm):
    kinds = _codes(SlaPolicy.Kind.choices)
    case_categories = _codes(DisputeCase.Category.choices)
    priorities = _codes(DisputeCase.Priority.choices)
    venues = _codes(Venue.choices)

    class Meta:
        model = SlaPolicy
        fields = (
            "name",
            "position",
            "is_active",
            "tiers",
            "kinds",
            "case_categories",
            "priorities",
            "venues",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "calendar",
            "pause_while_waiting",
            "warn_minutes",
            "escalate_on_breach",
        )
        widgets = {"tiers": forms.CheckboxSelectMultiple}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = PolicyInput(
            name=cleaned["name"],
            calendar=cleaned["calendar"],
            tiers=list(cleaned["tiers"]),
            **{name: cleaned.get(name) or [] for name in SlaPolicy.LIST_CONDITIONS},
            **{name: cleaned.get(name) for name in SlaPolicy.TARGET_FIELDS},
            is_active=cleaned["is_active"],
            pause_while_waiting=cleaned["pause_while_waiting"],
            warn_minutes=cleaned["warn_minutes"],
            escalate_on_breach=cleaned["escalate_on_breach"],
        )
        existing = self.instance if self.instance.pk else None
        for field, messages in policy_problems(
            policy=existing, data=data, position=cleaned["position"]
        ).items():
            self.add_error(None if field == NON_FIELD_ERRORS else field, messages)
        return cleaned


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = (
        "position",
        "name",
        "is_active",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "calendar",
    )
    list_display_links = ("name",)
    list_filter = ("is_active", "calendar")
    list_select_related = ("calendar",)
    search_fields = ("name",)
    ordering = ("position",)


@admin.register(RoutingTeam)
class RoutingTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "intercom_id", "gone_at"]
    filter_horizontal = ["members"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Until the routing page (/support/routing/) exists, Admins keep the rules here."""

    list_display = ["position", "name", "is_active", "assign", "team", "person", "when_unavailable"]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]
    filter_horizontal = ["tiers"]


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ["decided_at", "conversation", "case", "rule_name", "assignee", "team", "reason"]
    list_select_related = ["conversation", "case", "assignee", "team"]
    readonly_fields = [f.name for f in RoutingDecision._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
