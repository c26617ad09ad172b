"""Reading frozen weeks: the list, the 12-week trends drawn from snapshots, a week as it was
sent, and how today's live figures for that week differ from the frozen ones."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from reports.formatting import format_value
from reports.metrics.base import ChartData, Section
from reports.models import MetricSnapshot
from reports.weekly.freezing import definitions_version, section_from_json, team_sections, week_period

TREND_WEEKS = 12


def current_snapshots() -> QuerySet[MetricSnapshot]:
    """Each frozen week's current snapshot, newest first, without its sections (the list and the
    trends read the headline)."""
    return (
        MetricSnapshot.objects.filter(replaced_at__isnull=True)
        .defer("sections")
        .select_related("made_by")
        .order_by("-week")
    )


def trends(snapshots: list[MetricSnapshot]) -> list[ChartData]:
    """One trend per section's lead figure over the latest TREND_WEEKS frozen weeks (oldest
    first), as each week was frozen. Weeks without a figure are gaps, not zeros."""
    weeks = sorted(snapshots, key=lambda s: s.week)[-TREND_WEEKS:]
    if not weeks:
        return []
    leads = {key: item for key, item in weeks[-1].headline.items() if item.get("lead")}
    return [
        ChartData(
            key=f"week-trend-{key.replace('.', '-')}",
            title=f"{item['section']}: {item['label']}",
            description=f"{item['label']} of each of the last {len(weeks)} frozen weeks, as frozen.",
            kind="trend",
            x=[s.week for s in weeks],
            series={item["label"]: [(s.headline.get(key) or {}).get("value") for s in weeks]},
            unit=item["unit"],
        )
        for key, item in leads.items()
    ]


def snapshot_sections(snapshot: MetricSnapshot) -> list[Section]:
    return [section_from_json(data) for data in snapshot.sections]


@dataclass
class Difference:
    """A figure whose live value for the frozen week is not what was frozen, and what changed."""

    section: str
    label: str
    frozen: str
    live: str
    what_changed: str


def live_differences(snapshot: MetricSnapshot) -> tuple[list[Difference], bool]:
    """The figures of the frozen week counted again now that differ from the snapshot, and
    whether today's definitions differ from those it was frozen by."""
    live = team_sections(week_period(snapshot.week))
    now = {(s.key, f.key): f for s in live for f in s.figures}
    differences = []
    for section in snapshot_sections(snapshot):
        for figure in section.figures:
            today = now.get((section.key, figure.key))
            if today is None or (today.value == figure.value and today.sample == figure.sample):
                continue
            differences.append(
                Difference(
                    section=section.title,
                    label=figure.label,
                    frozen=format_value(figure.value, figure.unit),
                    live=format_value(today.value, today.unit),
                    what_changed=_what_changed(figure, today),
                )
            )
    return differences, definitions_version(live) != snapshot.definitions_version


def _what_changed(frozen, live) -> str:
    label = live.sample_label or frozen.sample_label or "items"
    if frozen.sample is None or live.sample is None:
        return "counted differently since"
    if live.sample > frozen.sample:
        return f"{live.sample - frozen.sample:,} more {label} counted since it was frozen ({frozen.sample:,} then, {live.sample:,} now): data that arrived late"
    if live.sample < frozen.sample:
        return f"{frozen.sample - live.sample:,} fewer {label} ({frozen.sample:,} then, {live.sample:,} now): items changed or deleted since"
    return (
        f"the same {live.sample:,} {label}, changed since (an amended decision, a re-imported conversation)"
    )


def monday_of(text: str) -> dt.date | None:
    """A week as the URL names it (its Monday, YYYY-MM-DD); None when it is not a Monday."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.weekday() == 0 else None
