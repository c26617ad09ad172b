"""The daily rollups of SLA clocks (reports.models) and the reads that combine them with the
clocks themselves.

A period in the viewer's time zone rarely starts at a UTC midnight: each UTC day is read whole
from the rollups for the period holding most of it (whole UTC weeks from the weekly rows,
rollups.weeks), and the odd hours from the clocks (through the clocks' report index), added or
taken away, so every figure is exact (rollups.days). Before each read the rollups catch up: the
days of every stopped clock updated since the watermark (less a safety margin for transactions
that committed late), and their weeks, are counted again. A full rebuild (`clocks_rebuild`, also
the first refresh) counts every day and week."""

import datetime as dt
from bisect import bisect_right

from django.db import connections, transaction
from django.db.models import CharField, Count, F, IntegerField, Sum, Value, When
from django.utils import timezone

from reports.aggregates import ObjectCase, Percentiles
from reports.models import ClockDay, DurationDay, RollupWatermark
from reports.rollups.days import UTC, UtcDate, corrections_case, span_keys
from reports.rollups.weeks import DAILY, count_weeks
from support.models import SlaClock

SAFETY = dt.timedelta(minutes=10)
WATERMARK = "sla_clocks"
MEASURES = ("wall_seconds", "working_seconds")
# Duration bands, upper bounds in seconds (exclusive): band i holds [BANDS[i-1], BANDS[i]), the
# last band everything from BANDS[-1] on. Finer where response times usually fall.
BANDS = (
    30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600,
    28800, 43200, 57600, 86400, 129600, 172800, 259200, 345600, 432000, 604800, 864000, 1209600,
    1814400, 2592000,
)  # fmt: skip


def kind_expression():
    return ObjectCase(
        When(conversation__isnull=True, then=Value("case")),
        default=Value("conversation"),
        output_field=CharField(),
    )


def band_expression(measure: str, bounds: tuple = BANDS):
    return ObjectCase(
        *(When(**{f"{measure}__lt": bound}, then=Value(i)) for i, bound in enumerate(bounds)),
        default=Value(len(bounds)),
        output_field=IntegerField(),
    )


def band_floor(band: int, bounds: tuple = BANDS) -> int:
    return 0 if band == 0 else bounds[band - 1]


def band_of(seconds: float) -> int:
    return bisect_right(BANDS, seconds)


# Keeping the rollups.


def clocks_refresh(now: dt.datetime | None = None) -> int:
    """Count again the days whose clocks changed since the watermark; the first call counts
    every day. Returns how many days were counted. A read that finds nothing changed and a
    watermark under a minute old writes nothing."""
    now = now or timezone.now()
    mark = RollupWatermark.objects.filter(name=WATERMARK).first()
    if (
        mark is not None
        and mark.through is not None
        and now - mark.through < dt.timedelta(minutes=1)
        and not SlaClock.objects.filter(updated_at__gte=mark.through, stopped_at__isnull=False).exists()
    ):
        return 0
    with transaction.atomic():
        mark, _ = RollupWatermark.objects.select_for_update().get_or_create(name=WATERMARK)
        if mark.through is None:
            days = None
        else:
            changed = SlaClock.objects.filter(updated_at__gte=mark.through - SAFETY, stopped_at__isnull=False)
            days = sorted(set(changed.annotate(day=UtcDate("stopped_at")).values_list("day", flat=True)))
        counted = _count_days(days)
        mark.through, mark.refreshed_at = now, timezone.now()
        mark.save()
    return counted


def clocks_rebuild() -> int:
    """Count every day again (after a bulk change that bypassed `updated_at`, or on demand)."""
    with transaction.atomic():
        RollupWatermark.objects.filter(name=WATERMARK).update(through=None)
    return clocks_refresh()


def _count_days(days: list[str] | None) -> int:
    """Replace the rollup rows of these days (every day when None) with fresh counts: a fixed
    number of queries however many days changed."""
    stopped = SlaClock.objects.filter(stopped_at__isnull=False)
    if days is None:
        ClockDay.objects.all().delete()
        DurationDay.objects.all().delete()
        _insert(stopped)
        _count_weeks()
        return ClockDay.objects.filter(days=DAILY).values("day").distinct().count()
    if not days:
        return 0
    dates = [dt.date.fromisoformat(day) for day in days]
    ClockDay.objects.filter(days=DAILY, day__in=dates).delete()
    DurationDay.objects.filter(days=DAILY, day__in=dates).delete()
    first = dt.datetime.combine(min(dates), dt.time(0), tzinfo=UTC)
    last = dt.datetime.combine(max(dates), dt.time(0), tzinfo=UTC) + dt.timedelta(days=1)
    in_days = stopped.filter(stopped_at__gte=first, stopped_at__lt=last).annotate(
        stop_day=UtcDate("stopped_at")
    )
    _insert(in_days.filter(stop_day__in=days))
    _count_weeks(dates)
    return len(days)


def _count_weeks(dates=None) -> None:
    """The weekly rows of the weeks holding these days (every week when None), from the daily."""
    count_weeks(
        ClockDay, ("metric", "status", "kind", "tier_id", "assignee_id"), ("clocks", "timed"), days=dates
    )
    count_weeks(DurationDay, ("metric", "kind", "measure", "band"), ("clocks",), days=dates)


def _insert(clocks) -> None:
    clocks = clocks.order_by().annotate(day=UtcDate("stopped_at"), kind=kind_expression())
    rows = clocks.values("day", "metric", "status", "kind", "item_tier_id", "item_assignee_id").annotate(
        n=Count("pk"), timed=Count("wall_seconds")
    )
    ClockDay.objects.bulk_create(
        (
            ClockDay(
                day=row["day"],
                metric=row["metric"],
                status=row["status"],
                kind=row["kind"],
                tier_id=row["item_tier_id"],
                assignee_id=row["item_assignee_id"],
                clocks=row["n"],
                timed=row["timed"],
            )
            for row in rows.iterator(chunk_size=5000)
        ),
        batch_size=2000,
    )
    for measure in MEASURES:
        bands = (
            clocks.filter(**{f"{measure}__isnull": False})
            .annotate(band=band_expression(measure))
            .values("day", "metric", "kind", "band")
            .annotate(n=Count("pk"))
        )
        DurationDay.objects.bulk_create(
            (
                DurationDay(
                    day=row["day"],
                    metric=row["metric"],
                    kind=row["kind"],
                    measure=measure,
                    band=row["band"],
                    clocks=row["n"],
                )
                for row in bands.iterator(chunk_size=5000)
            ),
            batch_size=2000,
        )


# Reading a period.


def clock_counts(period, *, specialist=None) -> list[dict]:
    """The stopped clocks of the period per (metric, status, kind, tier, assignee): rows with
    `clocks` and `timed`. Two queries: the rollups' days, the clocks of the odd hours."""
    rows = clock_counts_by_span({0: (period.start, period.end)}, specialist=specialist)
    for row in rows:
        del row["span"]
    return rows


CLOCK_DIMENSIONS = ("metric", "status", "kind", "tier", "assignee")
_ROLLED_AS = {"tier": "tier_id", "assignee": "assignee_id"}
_CLOCK_AS = {"tier": "item_tier_id", "assignee": "item_assignee_id"}


def clock_counts_by_span(
    spans: dict, *, specialist=None, metric=None, kind=None, by: tuple = CLOCK_DIMENSIONS
) -> list[dict]:
    """As clock_counts, for several spans {key: (start, end)} at once: each row names its `span`.
    `metric` and `kind` ("conversation" or "case") keep only those clocks; `by` names the
    dimensions counted per (fewer rows to read when a figure needs fewer)."""
    days, day_span, corrections = span_keys(spans)
    counts: dict = {}
    if day_span is not None:
        rolled = ClockDay.objects.filter(days, **{k: v for k, v in (("metric", metric), ("kind", kind)) if v})
        if specialist is not None:
            rolled = rolled.filter(assignee_id=specialist.pk)
        for *key, n, t in (
            rolled.annotate(span=day_span)
            .values_list("span", *(_ROLLED_AS.get(name, name) for name in by))
            .annotate(n=Sum("clocks"), t=Sum("timed"))
            .order_by()
        ):
            _add(counts, tuple(key), n, t)
    if corrections:
        in_hours, added_to, taken_from = corrections_case("stopped_at", corrections)
        clocks = SlaClock.objects.filter(in_hours)
        if specialist is not None:
            clocks = clocks.filter(item_assignee=specialist)
        # metric and kind kept here, not in SQL: SQLite would leave the report index for them
        for added, taken, row_metric, row_kind, *key, n, t in (
            clocks.annotate(kind=kind_expression(), added=added_to, taken=taken_from)
            .values_list("added", "taken", "metric", "kind", *(_CLOCK_AS.get(name, name) for name in by))
            .annotate(n=Count("pk"), t=Count("wall_seconds"))
            .order_by()
        ):
            if (metric is None or row_metric == metric) and (kind is None or row_kind == kind):
                if added is not None:
                    _add(counts, (added, *key), n, t)
                if taken is not None:
                    _add(counts, (taken, *key), -n, -t)
    names = ("span", *by)
    return [
        {**dict(zip(names, key, strict=True)), "clocks": n, "timed": t}
        for key, (n, t) in counts.items()
        if n or t
    ]


def _add(counts: dict, key: tuple, n, timed) -> None:
    total = counts.setdefault(key, [0, 0])
    total[0] += n or 0
    total[1] += timed or 0


def band_counts(period, measures=MEASURES) -> dict:
    """{(metric, kind, measure): {band: clocks}} of the clocks achieved in the period: its days
    from the rollups (each UTC day it holds most of), the odd hours from the clocks."""
    return band_counts_by_span({0: (period.start, period.end)}, measures).get(0, {})


def band_counts_by_span(spans: dict, measures=MEASURES) -> dict:
    """As band_counts for several spans {key: (start, end)} at once: {key: band counts} (a span
    with no clock is left out). One query for the rollups, one per measure for the odd hours."""
    days, day_span, corrections = span_keys(spans)
    counts: dict = {}

    def add(span, metric, kind, measure, band, n):
        bands = counts.setdefault(span, {}).setdefault((metric, kind, measure), {})
        bands[band] = bands.get(band, 0) + n

    if day_span is not None:
        for row in (
            DurationDay.objects.filter(days, measure__in=measures)
            .annotate(span=day_span)
            .values_list("span", "metric", "kind", "measure", "band")
            .annotate(n=Sum("clocks"))
            .order_by()
        ):
            add(*row)
    if corrections:
        in_hours, added_to, taken_from = corrections_case("stopped_at", corrections)
        clocks = SlaClock.objects.filter(in_hours).annotate(
            kind=kind_expression(), added=added_to, taken=taken_from
        )
        for measure in measures:
            for metric, kind, band, added, taken, n in (
                clocks.filter(**{f"{measure}__isnull": False})
                .annotate(band=band_expression(measure))
                .values_list("metric", "kind", "band", "added", "taken")
                .annotate(n=Count("pk"))
                .order_by()
            ):
                for span, sign in ((added, 1), (taken, -1)):
                    if span is not None:
                        add(span, metric, kind, measure, band, sign * n)
    return {
        span: {key: {band: n for band, n in bands.items() if n} for key, bands in by_key.items()}
        for span, by_key in counts.items()
    }


def banded_percentiles(bands: dict, clocks_of, measure: str, fractions) -> Percentiles:
    """Exact percentiles from the band counts: the band that holds each rank is found in the
    counts, and the values there are read in order from the clocks (`clocks_of` gives the
    subset's queryset; its filter must let the database read `measure` in value order). The
    read is bounded to the band on both sides, so the database walks that band alone."""
    return banded_percentiles_of({None: (bands, clocks_of, measure)}, fractions)[None]


def banded_percentiles_of(subsets: dict, fractions, bounds: tuple = BANDS) -> dict:
    """{key: Percentiles} for subsets {key: (bands, clocks_of, measure[, band column])}, as
    banded_percentiles gives each, all their reads in one query whatever the data (the reads'
    shape is known from the counts). `bounds` are the bands' upper bounds the counts were made by.
    A subset whose rows store their band (the column named) is read by that column, its index's
    first, rather than by the measure's range."""
    ranks = {}  # (key, fraction's index): (position, rank, total)
    for key, (bands, *_read) in subsets.items():
        total = sum(bands.values())
        for i, fraction in enumerate(fractions):
            if total:
                position = fraction * (total - 1)
                ranks[(key, i)] = (position, int(position), total)
    # The value at each rank and the next one: one read of two where both lie in one band, else
    # one read in each band (the rank closes its band).
    reads = []  # (slot, subset, rank, how many)
    for slot, (_position, rank, total) in ranks.items():
        subset = subsets[slot[0]]
        if rank + 1 >= total:
            reads.append((slot, subset, rank, 1))
        elif _band_holding(subset[0], rank)[0] == _band_holding(subset[0], rank + 1)[0]:
            reads.append((slot, subset, rank, 2))
        else:
            reads += [(slot, subset, rank, 1), (slot, subset, rank + 1, 1)]
    pairs = _read_values(reads, bounds)
    found = {}
    for key in subsets:
        values = []
        for i in range(len(fractions)):
            if (key, i) not in ranks:
                values.append(None)
                continue
            position, rank, _total = ranks[(key, i)]
            low, *rest = sorted(float(v) for v in pairs[(key, i)])
            high = rest[0] if rest else low
            values.append(low + (position - rank) * (high - low))
        total = sum(subsets[key][0].values())
        found[key] = Percentiles(total, tuple(values)) if total else Percentiles(0, (None,) * len(fractions))
    return found


def _read_values(reads: list, bounds: tuple) -> dict:
    """{slot: [values]} for reads [(slot, (bands, clocks_of, measure[, band column]), rank, how
    many)]: that many values in order from `rank`, each read bounded to the band holding it; all
    in one query, each read a subquery of a UNION ALL (SQLite allows no LIMIT in a compound's own
    parts, but does in a subquery of one)."""
    if not reads:
        return {}
    parts, params = [], []
    for tag, (_slot, (bands, clocks_of, measure, *band_column), rank, count) in enumerate(reads):
        band, below = _band_holding(bands, rank)
        if band_column:
            within = {band_column[0]: band}
        else:
            within = {f"{measure}__gte": band_floor(band, bounds)}
            if band < len(bounds):
                within[f"{measure}__lt"] = bounds[band]
        read = (
            clocks_of()
            .filter(**within)
            .annotate(tag=Value(tag, output_field=IntegerField()), value=F(measure))
            .order_by(measure)
            .values_list("tag", "value")[rank - below : rank - below + count]
        )
        sql, read_params = read.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS read_{tag}")  # noqa: S608 - compiled by Django, values bound
        params.extend(read_params)
    found: dict = {slot: [] for slot, *_rest in reads}
    with connections[read.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for tag, value in cursor.fetchall():
            found[reads[tag][0]].append(value)
    return found


def _band_holding(bands: dict, rank: int) -> tuple[int, int]:
    below = 0
    for band in sorted(bands):
        if rank < below + bands[band]:
            return band, below
        below += bands[band]
    raise ValueError("rank beyond the counted clocks")
