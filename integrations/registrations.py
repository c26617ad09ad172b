"""How Intercom sync plugs into the portal: navigation."""

from portal.navigation import NavItem, register_nav_item
from portal.roles import Role

register_nav_item(
    NavItem(label="Sync", url_name="integrations:sync", roles=(Role.ADMIN, Role.SPECIALIST), order=90)
)
