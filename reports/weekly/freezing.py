"""Freezing a week: every figure and breakdown of the reports page for one ISO week (Monday 00:00
to Monday 00:00 in the program's time zone, settings.TIME_ZONE), the team's, as Leadership reads
them, stored with the definitions' version and the count behind each number.

A week is frozen once. The schedule freezes every finished week that has no snapshot yet (so a
worker that was down over Monday freezes the right week when it returns); recomputing is an
Admin's act with a reason, and keeps the snapshot it replaces."""

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from reports.metrics import families
from reports.metrics.base import Breakdown, Cell, Drill, Figure, ReportContext, Section
from reports.metrics.dimensions import names_kept
from reports.models import MetricSnapshot
from reports.periods import Period, period_of_days
from reports.rollups import rollups_caught_up

CATCH_UP_WEEKS = 12  # a worker down longer than this leaves the older weeks unfrozen


def program_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def week_period(monday: dt.date, tz: ZoneInfo | None = None) -> Period:
    """The ISO week that starts on `monday`, as a report period (its rows are a custom range)."""
    sunday = monday + dt.timedelta(days=6)
    return period_of_days(
        monday,
        sunday,
        tz or program_tz(),
        label=f"Week of {monday:%-d %b %Y}",
        params=[("range", "custom"), ("start", monday.isoformat()), ("end", sunday.isoformat())],
    )


def last_finished_week(now: dt.datetime | None = None) -> dt.date:
    """The Monday of the latest week that has ended, in the program's time zone."""
    today = timezone.localdate(now or timezone.now(), timezone=program_tz())
    return today - dt.timedelta(days=today.weekday() + 7)


def team_sections(period: Period) -> list[Section]:
    """The reports page's sections for `period`, the team's (every family), without charts: a
    week's charts are the trends drawn from its neighbours' snapshots."""
    context = ReportContext(period=period, previous=period.previous())
    with rollups_caught_up(), names_kept():
        sections = [family.build(context) for family in families()]
    for section in sections:
        section.charts = []
    return sections


def definitions_version(sections: list[Section]) -> str:
    """A short fingerprint of what every figure and breakdown is defined as: a snapshot whose
    version differs from today's was counted by definitions that have changed since."""
    said = [
        (section.key, item.key, item.definition)
        for section in sections
        for item in (*section.figures, *section.breakdowns)
    ]
    return hashlib.sha256(json.dumps(sorted(said)).encode()).hexdigest()[:12]


@transaction.atomic
def week_freeze(
    monday: dt.date, *, by=None, reason: str = "", now: dt.datetime | None = None
) -> tuple[MetricSnapshot, bool]:
    """Freeze the week that starts on `monday`. Returns (its current snapshot, whether this call
    made it). Without `by` (the schedule) a week already frozen is left as it is; with `by` (an
    Admin's *Recompute*, which needs a reason) it is frozen again and the old snapshot is kept,
    marked replaced."""
    now = now or timezone.now()
    if monday.weekday() != 0:
        raise ValidationError("A week starts on a Monday.")
    if monday > last_finished_week(now):
        raise ValidationError("That week has not ended yet: it is frozen once it has.")
    current = MetricSnapshot.objects.select_for_update().filter(week=monday, replaced_at__isnull=True).first()
    if current is not None and by is None:
        return current, False
    if by is not None and not reason.strip():
        raise ValidationError(
            {"reason": "Say why the week is counted again: the old figures are kept beside it."}
        )
    period = week_period(monday)
    sections = team_sections(period)
    if current is not None:
        current.replaced_at = now
        current.save(update_fields=["replaced_at"])
    try:
        with transaction.atomic():
            made = MetricSnapshot.objects.create(
                week=monday,
                time_zone=str(period.start.tzinfo),
                starts_at=period.start,
                ends_at=period.end,
                definitions_version=definitions_version(sections),
                sections=[section_to_json(s) for s in sections],
                headline=headline(sections),
                items=sum(f.sample or 0 for s in sections for f in s.figures),
                made_at=now,
                made_by=by,
                reason=reason.strip(),
            )
    except IntegrityError:  # another worker froze it meanwhile: theirs stands
        return MetricSnapshot.objects.get(week=monday, replaced_at__isnull=True), False
    return made, True


def weeks_due(now: dt.datetime | None = None) -> list[dt.date]:
    """The finished weeks the schedule still has to freeze, oldest first: those since the latest
    snapshot (at most CATCH_UP_WEEKS), or only the last finished week when there is none."""
    last = last_finished_week(now)
    latest = MetricSnapshot.objects.order_by("-week").values_list("week", flat=True).first()
    first = (
        last
        if latest is None
        else max(latest + dt.timedelta(days=7), last - dt.timedelta(weeks=CATCH_UP_WEEKS - 1))
    )
    weeks = []
    while first <= last:
        weeks.append(first)
        first += dt.timedelta(days=7)
    return weeks


def headline(sections: list[Section]) -> dict[str, dict]:
    """Each figure's value, label and unit by "section.figure" key (`lead`: the section's first
    figure, the one its trend shows): what the weeks page reads without the sections."""
    return {
        f"{s.key}.{f.key}": {
            "value": f.value,
            "label": f.label,
            "unit": f.unit,
            "lead": n == 0,
            "section": s.title,
        }
        for s in sections
        for n, f in enumerate(s.figures)
    }


# --- as stored -------------------------------------------------------------------------------


def _drill_to_json(drill: Drill | None):
    return None if drill is None else [drill.rows, [list(pair) for pair in drill.filters], drill.previous]


def _drill_from_json(data) -> Drill | None:
    return None if not data else Drill(data[0], tuple(tuple(pair) for pair in data[1]), data[2])


def section_to_json(section: Section) -> dict:
    return {
        "key": section.key,
        "title": section.title,
        "note": section.note,
        "figures": [
            {
                "key": f.key,
                "label": f.label,
                "unit": f.unit,
                "value": f.value,
                "previous": f.previous,
                "definition": f.definition,
                "better": f.better,
                "sample": f.sample,
                "sample_label": f.sample_label,
                "drill": _drill_to_json(f.drill),
                "target": f.target,
            }
            for f in section.figures
        ],
        "breakdowns": [
            {
                "key": b.key,
                "title": b.title,
                "dimension": b.dimension,
                "columns": b.columns,
                "rows": [
                    [label, [[c.value, c.unit, _drill_to_json(c.drill)] for c in cells]]
                    for label, cells in b.rows
                ],
                "definition": b.definition,
            }
            for b in section.breakdowns
        ],
    }


def section_from_json(data: dict) -> Section:
    return Section(
        key=data["key"],
        title=data["title"],
        note=data.get("note", ""),
        figures=[Figure(**{**f, "drill": _drill_from_json(f.get("drill"))}) for f in data["figures"]],
        breakdowns=[
            Breakdown(
                key=b["key"],
                title=b["title"],
                dimension=b["dimension"],
                columns=b["columns"],
                rows=[
                    (label, [Cell(v, u, _drill_from_json(d)) for v, u, d in cells])
                    for label, cells in b["rows"]
                ],
                definition=b.get("definition", ""),
            )
            for b in data["breakdowns"]
        ],
    )


def weeks_backfill(count: int, *, now: dt.datetime | None = None) -> int:
    """Freeze the last `count` finished weeks that have no snapshot (as if the schedule had run
    each Monday): for the demo's history, or a program starting with history it imported."""
    last = last_finished_week(now)
    made = 0
    for n in range(count - 1, -1, -1):
        made += week_freeze(last - dt.timedelta(weeks=n), now=now)[1]
    return made
