"""The report as one person may read it: the families their roles open, built for the period,
with a Specialist's own figures beside the team's."""

from dataclasses import dataclass

from portal.roles import Role, has_role
from reports.metrics import families
from reports.metrics.base import Family, ReportContext, Section
from reports.metrics.dimensions import names_kept
from reports.periods import Period
from reports.rollups import rollups_caught_up

SEES_EVERYONE = (Role.LEADERSHIP, Role.ADMIN)
READERS = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST, Role.PRODUCT)


@dataclass
class Report:
    period: Period
    previous: Period
    sections: list[Section]
    own: bool  # the figures are the viewer's own, each with the team's beside it


def sees_everyone(user) -> bool:
    return has_role(user, *SEES_EVERYONE)


def families_for(user) -> list[Family]:
    return [family for family in families() if has_role(user, *family.roles)]


def report_for(user, period: Period) -> Report:
    previous = period.previous()
    own = not sees_everyone(user)
    team = ReportContext(period=period, previous=previous, figures_only=own)
    sections = []
    with rollups_caught_up(), names_kept():
        for family in families_for(user):
            if own and family.per_person:
                section = family.build(ReportContext(period=period, previous=previous, specialist=user))
                _beside(section, family.build(team))
            else:
                section = family.build(team)
            sections.append(section)
    return Report(period=period, previous=previous, sections=sections, own=own)


def _beside(section: Section, team: Section) -> None:
    team_figures = {figure.key: figure for figure in team.figures}
    for figure in section.figures:
        figure.team = team_figures.get(figure.key)


def person_scope(user):
    """Whose items a row list shows this viewer: everyone's (None) or their own."""
    return None if sees_everyone(user) else user
