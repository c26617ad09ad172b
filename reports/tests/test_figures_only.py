"""The team's figures beside a Specialist's own are built figures-only (no breakdowns, charts
or per-week counts): they must be the very figures the whole build gives, for every family, in a
time zone whose weeks start off a UTC midnight (the week edges are what figures-only skips)."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from portal.tests.seeding import seed
from reports.metrics import families
from reports.metrics.base import ReportContext
from reports.metrics.dimensions import names_kept
from reports.periods import last_days
from reports.rollups import rollups_caught_up

pytestmark = pytest.mark.django_db
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
HISTORY = (
    *("--seed", "5", "--accounts", "20", "--markets", "8", "--conversations", "0"),
    *("--disputes", "60", "--feedback", "40", "--history-months", "6"),
    *("--history-conversations", "300", "--history-cases", "120", "--history-escalations", "60"),
)


def _figures(section):
    return [(f.key, f.value, f.previous, f.sample) for f in section.figures]


@pytest.mark.parametrize("days", [30, 90])
def test_figures_only_gives_the_whole_builds_figures(days):
    seed(*HISTORY)
    period = last_days(days, today=timezone.localdate(timezone=LOS_ANGELES), tz=LOS_ANGELES)
    whole = ReportContext(period=period, previous=period.previous())
    figures_only = ReportContext(period=period, previous=period.previous(), figures_only=True)
    compared = 0
    with rollups_caught_up(), names_kept():
        for family in families():
            full, bare = family.build(whole), family.build(figures_only)
            assert _figures(bare) == _figures(full), family.key
            assert not bare.breakdowns and not bare.charts, family.key
            compared += sum(1 for f in full.figures if f.value)
    assert compared > 20  # the history gave the figures something to count
