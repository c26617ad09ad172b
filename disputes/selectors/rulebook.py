"""The platform rulebook and its section versions."""

import datetime as dt

from django.db.models import QuerySet

from disputes.models import (
    RulebookSection,
    RulebookSectionVersion,
)
from disputes.selectors.roles import RULE_READERS, RULEBOOK_EDITORS
from portal.models import User
from portal.selectors import object_get_for_user


def rulebook(*, venue: str | None = None) -> QuerySet[RulebookSection]:
    sections = RulebookSection.objects.select_related("current_version")
    return sections.filter(venue=venue) if venue else sections


def rulebook_in_force(*, venue: str) -> list[RulebookSectionVersion]:
    """The current version of each of a venue's rulebook sections: what a decision may cite now."""
    return [
        section.current_version
        for section in rulebook(venue=venue).select_related("current_version__section")
        if section.current_version
    ]


def rulebook_section_get_for_user(*, user: User, pk, to_change: bool = False) -> RulebookSection:
    return object_get_for_user(
        RulebookSection.objects.select_related("current_version"),
        user=user,
        roles=RULEBOOK_EDITORS if to_change else RULE_READERS,
        denied="Your role does not include the rulebook.",
        missing="No such rulebook section.",
        pk=pk,
    )


def rulebook_section_at(section: RulebookSection, day: dt.date) -> RulebookSectionVersion | None:
    return section.versions.filter(effective_from__lte=day).order_by("-effective_from", "-number").first()
