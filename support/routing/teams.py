"""Routing teams kept in line with Intercom's teams.

A routing rule may give work to a team, and the outbox then assigns the conversation in Intercom
to that team's `intercom_id`. When the team is deleted in Intercom, that assignment can only fail:
every conversation such a rule picks would end in the outbox as a refused job (`team_not_found`),
retried and reported, while the conversation waits unassigned. The engine instead skips a rule
whose team is marked `gone_at` as broken and goes on to the next rule (support.routing.engine), so
the work still reaches someone and the rules page shows why the rule did not apply. This sync is
what sets and clears that mark:

    with IntercomClient() as client:
        routing_teams_sync(client=client)  # {"listed": 3, "gone": 1, "back": 0}

- a team with an `intercom_id` that Intercom no longer lists is marked gone (once: a team already
  marked keeps its first `gone_at`, so the mark says since when);
- a team marked gone whose id Intercom lists again is no longer gone;
- a team without an `intercom_id` is the portal's own and is left alone.

Intercom is read first, outside any transaction; only then are the marks changed, in one
transaction. A failed read raises before anything is written, so a team is never marked gone
because Intercom could not be asked. Running it again changes nothing.
"""

import logging

from django.db import transaction
from django.utils import timezone

from integrations.intercom.client import IntercomClient
from support.models import RoutingTeam

logger = logging.getLogger(__name__)


def routing_teams_sync(*, client: IntercomClient) -> dict:
    """Mark the routing teams Intercom deleted as gone, and those it lists again as back. Returns
    how many teams Intercom listed and how many routing teams went and came back."""
    listed = {str(team["id"]) for team in client.teams() if team.get("id") not in (None, "")}
    now = timezone.now()
    linked = RoutingTeam.objects.exclude(intercom_id="")
    with transaction.atomic():
        gone = (
            linked.filter(gone_at__isnull=True)
            .exclude(intercom_id__in=listed)
            .update(gone_at=now, updated_at=now)
        )
        back = linked.filter(gone_at__isnull=False, intercom_id__in=listed).update(
            gone_at=None, updated_at=now
        )
    if gone:
        logger.warning("Routing teams: %s team(s) no longer in Intercom; their rules are skipped.", gone)
    if back:
        logger.info("Routing teams: %s team(s) are in Intercom again.", back)
    return {"listed": len(listed), "gone": gone, "back": back}
