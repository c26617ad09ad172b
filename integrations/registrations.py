"""How Intercom sync plugs into the portal: navigation and the outbox in /healthz?detail."""

from integrations.selectors import intercom_health, intercom_health_without_database
from portal.health import HealthCheck, register_health_check
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role

register_nav_item(
    NavItem(label="Sync", url_name="integrations:sync", roles=(Role.ADMIN, Role.SPECIALIST), order=90)
)
register_health_check(
    HealthCheck(key="intercom", check=intercom_health, without_database=intercom_health_without_database)
)
