from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Preferences", {"fields": ("time_zone",)}),
    )
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("groups", "is_active", "is_staff")
