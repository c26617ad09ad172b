from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success

from portal.models import User
from portal.services import user_email_check_free


class PortalUserChangeForm(UserChangeForm):
    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip()
        user_email_check_free(user=self.instance, email=email)
        return email


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """People are managed through their groups (roles). Only a superuser sees or sets superuser
    status and per-user permissions, or edits a superuser; nobody changes their own groups, staff
    or active status (an Admin cannot promote, or lock out, themselves)."""

    form = PortalUserChangeForm
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Preferences", {"fields": ("time_zone",)}),
    )
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("groups", "is_active", "is_staff")

    SUPERUSER_ONLY = ("is_superuser", "user_permissions")
    NOT_ON_ONESELF = ("is_superuser", "groups", "is_staff", "is_active")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        return tuple(
            (name, {**options, "fields": tuple(f for f in options["fields"] if f not in self.SUPERUSER_ONLY)})
            for name, options in fieldsets
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            readonly += [f for f in self.NOT_ON_ONESELF if f not in readonly]
        if not request.user.is_superuser:
            readonly += [f for f in self.SUPERUSER_ONLY if f not in readonly]
        return readonly

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # and so no password reset either: user_change_password asks this
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (
            obj.pk == request.user.pk or (obj.is_superuser and not request.user.is_superuser)
        ):
            return False
        return super().has_delete_permission(request, obj)


# --- django-q2: schedules, task results and the queue, read-only but for superusers ----------
# Schedules are declared in portal/schedules.py and applied by `manage.py setup_schedules`. A
# schedule names any importable function, so editing one runs arbitrary code on the worker:
# only superusers may. Task arguments, results and queued payloads are never shown to anyone
# else: a failure's result is an exception text, which may quote whatever the task handled.

HIDDEN_TASK_FIELDS = ("args", "kwargs", "result")


class _SuperuserWritesOnly:
    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # "Resubmit selected tasks" re-runs a task with its stored arguments.
        return super().get_actions(request) if request.user.is_superuser else {}


class PortalScheduleAdmin(_SuperuserWritesOnly, q_admin.ScheduleAdmin):
    pass


class _TaskResultAdmin(_SuperuserWritesOnly):
    def get_fields(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields]
        if request.user.is_superuser:
            return fields
        return [name for name in fields if name not in HIDDEN_TASK_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.is_superuser:
            return columns
        return [c for c in columns if c != "short_result"]


class PortalSuccessAdmin(_TaskResultAdmin, q_admin.TaskAdmin):
    pass


class PortalFailureAdmin(_TaskResultAdmin, q_admin.FailAdmin):
    pass


class PortalQueueAdmin(_SuperuserWritesOnly, q_admin.QueueAdmin):
    def get_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fields(request, obj)
        return ("key", "lock", "task_id", "name", "group", "func")

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return self.get_fields(request, obj)


for model, model_admin in (
    (Schedule, PortalScheduleAdmin),
    (Success, PortalSuccessAdmin),
    (Failure, PortalFailureAdmin),
    (OrmQ, PortalQueueAdmin),
):
    registered = admin.site.is_registered(model)
    if registered:
        admin.site.unregister(model)
    if registered or model is not OrmQ:
        admin.site.register(model, model_admin)
