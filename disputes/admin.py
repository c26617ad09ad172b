from django.contrib import admin

from disputes.models import Market, RulebookSection


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    """Read-only: markets change through imports and the portal, which keep their versions."""

    list_display = ("question", "venue", "gamma_id", "is_closed", "uma_status", "clarification_count")
    list_filter = ("venue", "is_closed", "uma_status")
    search_fields = ("question", "slug", "gamma_id", "condition_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RulebookSection)
class RulebookSectionAdmin(admin.ModelAdmin):
    """Listed here for orientation; sections are edited in the portal (/disputes/rulebook/),
    where every save becomes a version."""

    list_display = ("number", "title", "venue")
    list_filter = ("venue",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
