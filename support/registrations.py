"""How the support program plugs into the portal: account timelines and health (the
conversation mirror), the queue and the SLA pages in the navigation, and the Breaching soon
panel on My day."""

import datetime as dt

from django.db.models import Avg, Count
from django.urls import reverse
from django.utils import timezone

from accounts.health import ComponentScore, HealthComponent, register_health_component
from accounts.timeline import register_timeline_source
from portal.health import HealthCheck, register_health_check
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role
from support.selectors import (
    SLA_READERS,
    QueueState,
    breaching_soon,
    conversation_timeline_entries,
    queue_item_link,
    queue_state,
)

register_timeline_source(conversation_timeline_entries, key="support.conversations")


RATING_WINDOW_DAYS = 90


def _conversation_ratings(facts, now):
    """The average rating (1–5) of the account's conversations rated in the last 90 days,
    mapped to 0–100 (1 → 0, 3 → 50, 5 → 100). Accounts with no recent rating are left out
    (no data), so they are scored on the other components alone. One aggregate query."""
    from support.models import Conversation

    rows = (
        Conversation.objects.filter(
            account_id__in=[f.id for f in facts],
            rating__isnull=False,
            rated_at__gte=now - dt.timedelta(days=RATING_WINDOW_DAYS),
            rated_at__lte=now,
        )
        .values("account_id")
        .annotate(average=Avg("rating"), rated=Count("id"))
        .order_by()
    )
    scores = {}
    for row in rows:
        average, rated = float(row["average"]), row["rated"]
        scores[row["account_id"]] = ComponentScore(
            max(0, min(100, round((average - 1) / 4 * 100))),
            f"avg rating {average:.1f} from {rated} conversation{'s' if rated != 1 else ''} "
            f"({RATING_WINDOW_DAYS} days)",
        )
    return scores


# Weight 15: the customer's own verdict, but sparse and self-selected (only some people rate,
# mostly after a very good or very bad conversation), so it counts for less than the
# specialist's check-in sentiment (25) and open disputes (20), and can move a score without
# outweighing check-in recency (50).
register_health_component(HealthComponent("conversations", "Conversation ratings", 15, _conversation_ratings))


register_nav_item(NavItem(label="SLA", url_name="support:sla", roles=SLA_READERS, order=60))
register_nav_item(NavItem(label="Routing", url_name="support:routing", roles=(Role.ADMIN,), order=61))
register_nav_item(
    NavItem(
        label="Queue",
        url_name="support:queue",
        roles=SLA_READERS,
        order=12,
        primary_for=(Role.SPECIALIST, Role.ADMIN),
    )
)


def breaching_soon_panel(*, user):
    """The Specialist's items (and unassigned ones) whose SLA warns or is breached: one query."""
    now = timezone.now()
    clocks = breaching_soon(user, now)
    for clock in clocks:
        clock.breached = queue_state(clock, now) == QueueState.BREACHED
        queue_item_link(clock)
    return {"clocks": clocks, "queue_url": reverse("support:queue")} if clocks else None


register_panel(
    Panel(
        key="support-breaching-soon",
        title="Breaching soon",
        template="support/_breaching_soon.html",
        roles=(Role.SPECIALIST,),
        build=breaching_soon_panel,
        order=1,
    )
)


def sla_health() -> dict:
    """SLA clocks running past their due time now (the status index)."""
    from django.db import DatabaseError

    from support.models import SlaClock

    try:
        return {"breached_now": SlaClock.objects.filter(status=SlaClock.Status.BREACHED).count()}
    except DatabaseError as error:
        return {"error": error.__class__.__name__}


register_health_check(HealthCheck(key="sla", check=sla_health, order=120))
