"""UTC days: what the daily rollups count by, and how a period splits into the whole days the
rollups hold and the hours left over at either end, which are read from the rows themselves."""

import datetime as dt

from django.db.models import Case, CharField, Func, IntegerField, Q, Value, When

UTC = dt.UTC


class UtcDate(Func):
    """The UTC calendar date of a datetime column, cheaply on both databases (SQLite keeps UTC
    text, so it is its first ten characters)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="substr(%(expressions)s, 1, 10)", **extra_context
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            **extra_context,
        )


def split_days(start: dt.datetime, end: dt.datetime) -> tuple[dt.date | None, dt.date | None, list[tuple]]:
    """The whole UTC days [first, last) inside [start, end), and the instants left over."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = (start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)).date()
    first_at = dt.datetime.combine(first, dt.time(0), tzinfo=UTC)
    last = end.date()
    last_at = dt.datetime.combine(last, dt.time(0), tzinfo=UTC)
    if first_at >= last_at:
        return None, None, [(start, end)]
    edges = [(a, b) for a, b in ((start, first_at), (last_at, end)) if a < b]
    return first, last, edges


def span_keys(spans: dict) -> tuple[Q, Case | None, list[tuple]]:
    """For spans {key: (start, end)}: the rollups' filter on `day` for their whole UTC days, a CASE
    naming the span of each such day (None when there is none), and the hours left over as
    [(key, start, end)], to be read from the rows themselves."""
    days, whens, leftovers = Q(pk__in=[]), [], []
    for key, (start, end) in spans.items():
        first, last, edges = split_days(start, end)
        if first is not None:
            days |= Q(day__gte=first, day__lt=last)
            whens.append(When(day__gte=first, day__lt=last, then=Value(key)))
        leftovers += [(key, a, b) for a, b in edges]
    return days, Case(*whens, output_field=IntegerField()) if whens else None, leftovers


def leftover_keys(field: str, leftovers: list[tuple]) -> tuple[Q, Case]:
    """The rows' filter on `field` for the leftover hours, and a CASE naming each row's span."""
    rows = Q(pk__in=[])
    for _, a, b in leftovers:
        rows |= Q(**{f"{field}__gte": a, f"{field}__lt": b})
    case = Case(
        *(When(**{f"{field}__gte": a, f"{field}__lt": b}, then=Value(key)) for key, a, b in leftovers),
        output_field=IntegerField(),
    )
    return rows, case
