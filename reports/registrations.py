"""How the reports plug into the portal: the navigation links them, and Leadership's My day
opens with the week's headline figures."""

from django.utils import timezone

from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role
from reports.metrics import csat, load, sla, times
from reports.metrics.base import ReportContext
from reports.periods import last_days
from reports.selectors import READERS

load()  # every family and row list, before a page asks for one
register_nav_item(
    NavItem(
        label="Reports",
        url_name="reports:report",
        roles=READERS,
        order=60,
        primary_for=(Role.LEADERSHIP, Role.PRODUCT),
    )
)


def week_panel(*, user) -> dict:
    """The last 7 days against the 7 before: CSAT, first response and SLA attainment."""
    tz = timezone.get_current_timezone()
    period = last_days(7, today=timezone.localdate(timezone=tz), tz=tz)
    ctx = ReportContext(period=period, previous=period.previous())
    figures = csat.headline(ctx)[:1] + times.first_response_headline(ctx) + sla.headline(ctx)[:1]
    if not any(figure.sample or figure.previous is not None for figure in figures):
        return None  # nothing rated, answered or timed in two weeks: nothing to read yet
    return {"figures": figures, "period": period}


register_panel(
    Panel(
        key="reports-week",
        title="The program this week",
        template="reports/_myday_week.html",
        roles=(Role.LEADERSHIP,),
        build=week_panel,
        order=5,
    )
)
