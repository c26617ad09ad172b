from django.contrib import admin
from django.db import models

from feedback.models import FeedbackItem, ProductArea


@admin.register(ProductArea)
class ProductAreaAdmin(admin.ModelAdmin):
    """Product manages areas in the portal too (/feedback/areas/). Areas are deactivated, never
    deleted: items keep pointing at them."""

    list_display = ("name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FeedbackItem)
class FeedbackItemAdmin(admin.ModelAdmin):
    """Read-only: items change through the portal, which keeps their history, impact and
    follow-ups."""

    list_display = (
        "id",
        "title",
        "category",
        "status",
        "owner_team",
        "area",
        "impact_accounts",
        "impact_score",
    )
    list_filter = ("status", "category", "owner_team", "area")
    search_fields = ("title",)
    list_select_related = ("area",)
    ordering = ("-impact_score", "-id")
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
