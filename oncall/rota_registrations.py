"""How the on-call rota plugs into the portal: "On call" in the navigation for everyone who reads
the rota, and the coverage gaps of the coming week on Admins' and Leadership's My day."""

from django.urls import reverse
from django.utils import timezone

from oncall.selectors.rota import GAP_DAYS, ROTA_READERS, coverage_gaps_ahead, on_call_now_ids
from portal.availability import register_on_shift_source
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role

register_nav_item(NavItem(label="On call", url_name="oncall:overview", roles=ROTA_READERS, order=16))
register_on_shift_source(on_call_now_ids)  # whoever is on call is on shift, for routing


def coverage_gaps_panel(*, user):
    """The stretches of the next week in which a rota's primary layer has nobody who can be
    paged; nothing when there are none. Five queries however many rotas."""
    gaps = coverage_gaps_ahead(timezone.now(), days=GAP_DAYS)
    if not gaps:
        return None
    return {"gaps": gaps, "days": GAP_DAYS, "oncall_url": reverse("oncall:overview")}


register_panel(
    Panel(
        key="oncall-coverage-gaps",
        title="On-call coverage gaps",
        template="oncall/_coverage_gaps_panel.html",
        roles=(Role.ADMIN, Role.LEADERSHIP),
        build=coverage_gaps_panel,
        order=5,
    )
)
