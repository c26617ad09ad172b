"""On-call in the Django admin. Rotas and escalation policies are managed in the portal
(/oncall/), where the services check them; here they can be read and corrected. Escalations,
their history and pages are records: read-only."""

from django.contrib import admin

from oncall.models import (
    Escalation,
    EscalationEvent,
    EscalationPolicy,
    EscalationStep,
    OncallContact,
    Page,
    Rota,
    RotaLayer,
    RotaMember,
    RotaOverride,
)


class RotaLayerInline(admin.TabularInline):
    model = RotaLayer
    extra = 0


@admin.register(Rota)
class RotaAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "starts_on", "handoff_time", "rotation_days", "is_active"]
    inlines = [RotaLayerInline]


class RotaMemberInline(admin.TabularInline):
    model = RotaMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(RotaLayer)
class RotaLayerAdmin(admin.ModelAdmin):
    list_display = ["rota", "position", "name"]
    inlines = [RotaMemberInline]


@admin.register(RotaOverride)
class RotaOverrideAdmin(admin.ModelAdmin):
    list_display = ["layer", "user", "starts_at", "ends_at", "reason"]
    list_select_related = ["layer__rota", "user"]


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "rota", "repeat_minutes", "is_default"]
    inlines = [EscalationStepInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EscalationEventInline(admin.TabularInline):
    model = EscalationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "at", "summary"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "severity", "raised_at", "acknowledged_at", "resolved_at"]
    list_filter = ["status", "severity", "source"]
    inlines = [EscalationEventInline]


@admin.register(Page)
class PageAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "round", "recipient", "channel", "status", "created_at", "sent_at"]
    list_filter = ["channel", "status"]
    list_select_related = ["escalation", "recipient"]


@admin.register(OncallContact)
class OncallContactAdmin(admin.ModelAdmin):
    """Each person's own chat webhook: their pages go there instead of the rota's."""

    list_display = ["user", "webhook_url"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
