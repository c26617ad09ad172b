from django.contrib import admin, messages

from accounts.models import Account, AccountImport, Tier
from accounts.services import due_dates_recompute
from accounts.signals import accounts_weighing_changed


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("name", "rank", "default_cadence_days", "weight", "intercom_tag")
    ordering = ("rank",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "default_cadence_days" in form.changed_data:
            moved = due_dates_recompute()
            messages.info(request, f"Cadence changed: {moved} account due date(s) recomputed.")
        if change and "weight" in form.changed_data:
            account_ids = list(obj.accounts.values_list("pk", flat=True))
            accounts_weighing_changed.send(sender=Tier, account_ids=account_ids)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Read-only here: accounts change through the portal, which keeps their dates and Intercom in step."""

    list_display = ("display_name", "email", "tier", "owner", "status", "next_check_in_due", "health_score")
    list_filter = ("tier", "status", "venue")
    search_fields = ("display_name", "email", "external_id")
    list_select_related = ("tier", "owner")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountImport)
class AccountImportAdmin(admin.ModelAdmin):
    list_display = ("original_name", "created_by", "created_at", "status", "total_rows", "created_count")
    readonly_fields = [f.name for f in AccountImport._meta.fields]

    def has_add_permission(self, request):
        return False
