from django.contrib import admin

from integrations.models import IntercomAdmin, SyncJob


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


@admin.register(IntercomAdmin)
class IntercomAdminAdmin(admin.ModelAdmin):
    """Which Intercom teammate each portal user is. Filled by `manage.py intercom_setup` (matched
    by e-mail); correct a match here when the e-mails differ."""

    list_display = ("name", "email", "intercom_id", "portal_user", "synced_at")
    search_fields = ("name", "email", "intercom_id", "portal_user__username")
    readonly_fields = ("intercom_id", "name", "email", "synced_at")
    autocomplete_fields = ()
    fields = ("intercom_id", "name", "email", "portal_user", "synced_at")

    def has_add_permission(self, request):
        return False
