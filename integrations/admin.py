from django.contrib import admin

from integrations.models import SyncJob


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "status", "attempts", "next_attempt_at", "updated_at")
    list_filter = ("status", "kind")
    search_fields = ("key",)
    readonly_fields = [f.name for f in SyncJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
