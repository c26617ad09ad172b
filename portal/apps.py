from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        import portal.task_logging  # noqa: F401 (connects the workers' log context)
        from portal.navigation import NavItem, register_nav_item
        from portal.roles import ALL_ROLES

        register_nav_item(
            NavItem(label="My day", url_name="home", roles=ALL_ROLES, order=0, primary_for=ALL_ROLES)
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"
