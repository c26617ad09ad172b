from django.contrib.admin import AdminSite

from portal.roles import Role, has_role


class PortalAdminSite(AdminSite):
    site_header = "Advanced Support Portal — configuration"
    site_title = "Portal admin"
    index_title = "Program configuration"
    site_url = "/"

    def has_permission(self, request):
        # Staff alone is not enough: only people in the Admin role configure the program.
        user = request.user
        return user.is_active and user.is_staff and has_role(user, Role.ADMIN)
