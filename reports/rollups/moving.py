"""Daily rollups of rows whose counted instants move (a conversation closed again later, a rating
changed, a decision amended) but only ever forward from the row's origin (its creation), and the
reads that combine them with the rows themselves for the odd hours (rollups.days).

Keeping them exact: the old instant of a changed row is kept nowhere, so a refresh counts again
every day from the earliest origin or instant among the rows changed since the watermark (less a
margin for transactions that committed late); from what a rollup's own hook finds moved outside
its rows (the tier of a conversation's account); and from the day of any row deleted (`deleted`,
on the model's post_delete). The first refresh, and a rebuild, count every day."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Count, IntegerField, Min, Q, Sum, Value
from django.utils import timezone

from reports.models import RollupWatermark
from reports.rollups.days import UTC, UtcDate, corrections_case, span_keys
from reports.rollups.weeks import DAILY, count_weeks

SAFETY = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Event:
    """One thing counted: the rows that have it (`where`), the instant that puts it in a day, and
    for each dimension the row's lookup (a dimension without one is None for this event)."""

    at: str
    lookups: dict[str, str]
    where: Q = field(default_factory=Q)


@dataclass(frozen=True)
class DayRollup:
    """A rollup model (fields `day`, `event`, the dimensions' columns and `count`) kept over the
    rows of `rows()`."""

    name: str  # its watermark
    model: type
    rows: Callable
    origin: str  # no event of a row comes before this instant
    events: dict[str, Event]
    columns: dict[str, str]  # dimension -> the rollup model's column
    count: str  # the rollup model's count column
    moved_from: Callable[[], dt.datetime | None] = lambda: None
    before_count: Callable[[bool], None] = lambda everything: None

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def refresh(self, now: dt.datetime | None = None) -> int:
        """Count again the days that changed since the watermark (every day on the first call).
        Returns how many days were counted. Within a minute of the last refresh, with no row
        changed since, nothing is read but the watermark."""
        now = now or timezone.now()
        mark = RollupWatermark.objects.filter(name=self.name).first()
        if (
            mark is not None
            and mark.through is not None
            and mark.dirty_from is None
            and now - mark.through < dt.timedelta(minutes=1)
            and not self.rows().filter(updated_at__gte=mark.through).exists()
        ):
            return 0
        with transaction.atomic():
            mark, _ = RollupWatermark.objects.select_for_update().get_or_create(name=self.name)
            everything = mark.through is None
            since = None if everything else self._changed_since(mark)
            counted = self._count_from(since) if everything or since is not None else 0
            mark.through, mark.refreshed_at, mark.dirty_from = now, timezone.now(), None
            mark.save()
        return counted

    def rebuild(self) -> int:
        with transaction.atomic():
            RollupWatermark.objects.filter(name=self.name).update(through=None)
        return self.refresh()

    def deleted(self, sender, instance, **kwargs) -> None:
        """A deleted row leaves its days counting it: mark them to be counted again."""
        instants = [getattr(instance, at) for at in (self.origin, *(e.at for e in self.events.values()))]
        self.count_again_from(min(at for at in instants if at is not None).astimezone(UTC).date())

    def count_again_from(self, day: dt.date) -> None:
        """Have the next refresh count every day from `day` again."""
        marks = RollupWatermark.objects.filter(name=self.name)
        marks.filter(Q(dirty_from__isnull=True) | Q(dirty_from__gt=day)).update(dirty_from=day)

    def _changed_since(self, mark) -> dt.date | None:
        """The first UTC day whose counts may have changed, or None."""
        instants = dict.fromkeys([self.origin, *(event.at for event in self.events.values())])
        # Each instant's minimum on its own: SQLite's MIN(a, b) is NULL when one of them is.
        found = (
            self.rows()
            .filter(updated_at__gte=mark.through - SAFETY)
            .aggregate(**{f"first_{i}": Min(at) for i, at in enumerate(instants)})
        )
        changed = min(filter(None, found.values()), default=None)
        firsts = [at.astimezone(UTC).date() for at in (changed, self.moved_from()) if at is not None]
        if mark.dirty_from is not None:
            firsts.append(mark.dirty_from)
        return min(firsts, default=None)

    def _count_from(self, since: dt.date | None) -> int:
        """Replace the rollup rows from `since` (every row when None) with fresh counts."""
        self.before_count(since is None)
        days = (
            self.model.objects.all()
            if since is None
            else self.model.objects.filter(days=DAILY, day__gte=since)
        )
        days.delete()
        since_at = dt.datetime.combine(since, dt.time(0), tzinfo=UTC) if since else None
        for name, event in self.events.items():
            rows = self.rows().order_by().filter(event.where, **{f"{event.at}__isnull": False})
            if since_at is not None:
                rows = rows.filter(**{f"{event.at}__gte": since_at})
            self.model.objects.bulk_create(
                (self._rolled(name, event, row) for row in self._grouped(rows, event)),
                batch_size=2000,
            )
        count_weeks(self.model, ("event", *self.columns.values()), (self.count,), since=since)
        counted = self.model.objects.filter(days=DAILY)
        counted = counted if since is None else counted.filter(day__gte=since)
        return counted.values("day").distinct().count()

    def _grouped(self, rows, event: Event):
        return (
            rows.annotate(day=UtcDate(event.at))
            .values_list("day", *event.lookups.values())
            .annotate(n=Count("pk"))
            .iterator(chunk_size=5000)
        )

    def _rolled(self, name: str, event: Event, row: tuple):
        """A rollup row from (day, *the event's dimensions, count)."""
        values = dict.fromkeys(self.columns.values())
        values.update({self.columns[d]: v for d, v in zip(event.lookups, row[1:-1], strict=True)})
        return self.model(day=row[0], event=name, **values, **{self.count: row[-1]})

    def counts(self, spans: dict, event: str, *, by: tuple | None = None, **only) -> list[dict]:
        """The rows with `event` in each span {key: (start, end)}, per the dimensions `by` (all
        when None), keeping only the rows whose dimensions equal `only`'s values: rows {span, *by,
        n}. Two queries: the rollups' whole days, the rows of the hours that correct them."""
        by = self.dimensions if by is None else by
        spec = self.events[event]
        days, day_span, corrections = span_keys(spans)
        totals: dict = {}
        if day_span is not None:
            rolled = self.model.objects.filter(
                days, event=event, **{self.columns[d]: v for d, v in only.items()}
            )
            for *key, n in (
                rolled.annotate(span=day_span)
                .values_list("span", *(self.columns[d] for d in by))
                .annotate(n=Sum(self.count))
                .order_by()
            ):
                totals[tuple(key)] = totals.get(tuple(key), 0) + n
        if corrections:
            for added, taken, *key, n in self._corrections(spec, corrections, by, only):
                for span, sign in ((added, 1), (taken, -1)):
                    if span is not None:
                        totals[(span, *key)] = totals.get((span, *key), 0) + sign * n
        names = ("span", *by)
        return [{**dict(zip(names, key, strict=True)), "n": n} for key, n in totals.items() if n]

    def _corrections(self, spec: Event, corrections: tuple, by: tuple, only: dict):
        """(added to, taken from, *by, n) of the rows in the correcting hours. PostgreSQL reads
        them as one OR of index ranges; SQLite would scan every row for that OR, so there each
        stretch is its own grouped read, all in one UNION ALL (PostgreSQL runs that at half the
        speed)."""
        nothing = Value(None, output_field=IntegerField())
        absent = {f"no_{d}": nothing for d in by if d not in spec.lookups}
        columns = [spec.lookups.get(d, f"no_{d}") for d in by]
        rows = self.rows().filter(spec.where, **{spec.lookups[d]: v for d, v in only.items()})
        if connections[rows.db].vendor == "postgresql":
            in_hours, added_to, taken_from = corrections_case(spec.at, corrections)
            grouped = rows.filter(in_hours).annotate(added=added_to, taken=taken_from, **absent)
            return grouped.values_list("added", "taken", *columns).annotate(n=Count("pk")).order_by()
        parts = [
            rows.filter(**{f"{spec.at}__gte": c.start, f"{spec.at}__lt": c.end})
            .annotate(
                added=Value(c.add, output_field=IntegerField()),
                taken=Value(c.sub, output_field=IntegerField()),
                **absent,
            )
            .values_list("added", "taken", *columns)
            .annotate(n=Count("pk"))
            .order_by()
            for c in corrections
        ]
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
