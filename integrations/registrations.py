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


def webhooks_health() -> dict:
    """Webhook lag: notifications stored and not yet processed, and the oldest one's age (one
    query on the status index)."""
    from django.db import DatabaseError
    from django.db.models import Count, Min
    from django.utils import timezone

    from integrations.models import WebhookEvent

    try:
        row = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).aggregate(
            waiting=Count("pk"), oldest=Min("received_at")
        )
    except DatabaseError as error:
        return {"error": error.__class__.__name__}
    age = round((timezone.now() - row["oldest"]).total_seconds(), 1) if row["oldest"] else 0
    return {"waiting": row["waiting"], "oldest_waiting_age_seconds": age}


register_health_check(HealthCheck(key="webhooks", check=webhooks_health, order=110))
