"""Percentiles and durations computed in the database, with the same figures on PostgreSQL and
SQLite.

Percentile (continuous, PostgreSQL's `percentile_cont`): of the n non-null values of a group,
sorted ascending as v[0] ≤ v[1] ≤ … ≤ v[n-1], the percentile at fraction p (0 ≤ p ≤ 1) is found at
position x = p × (n − 1); with i = ⌊x⌋ and j = ⌈x⌉ it is v[i] + (x − i) × (v[j] − v[i]), linear
interpolation between the two nearest ranks. The median is p = 0.5; p90 of ten values lies at
x = 8.1, one tenth of the way from the 9th value to the 10th. NULL values are left out; a group
with no non-null value has no percentile (None) and a count of 0.

Seconds between two instants: end − start in seconds, as a float with microseconds, negative
when end is earlier, NULL when either is NULL.

PostgreSQL computes percentiles with `percentile_cont(p) WITHIN GROUP (ORDER BY value)`. SQLite
has no such aggregate, so there the rows are numbered within their group by a window function
(ROW_NUMBER and COUNT OVER (PARTITION BY the group ORDER BY value)), and the values at ranks ⌊x⌋
and ⌈x⌉ are picked and interpolated in SQL around that subquery. Either way it is one query per
call, however many groups, and no row reaches Python.
"""

from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connections
from django.db.models import Aggregate, Case, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast
from django.utils.functional import cached_property

from portal.expressions import seconds_between

__all__ = ["seconds_between"]  # kept here too: the reports read it beside the percentiles


class Percentiles(NamedTuple):
    """One group's figures: how many non-null values it has, and the percentile at each
    requested fraction, in the order asked (None when `count` is 0)."""

    count: int
    values: tuple[float | None, ...]


class PercentileCont(Aggregate):
    """`percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`: PostgreSQL only."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    arity = 1

    def __init__(self, expression, fraction: float, **extra):
        self.fraction = _checked_fraction(fraction)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            raise NotSupportedError("percentile_cont is PostgreSQL's; use reports.aggregates.percentiles().")
        # The fraction stays a bound parameter; it comes first in the SQL, so first in params.
        sql, params = super().as_sql(
            compiler, connection, fraction="CAST(%s AS double precision)", **extra_context
        )
        return sql, (self.fraction, *params)


class _DurationSeconds(Func):
    """A DurationField expression in seconds (float). Built by `duration_seconds(expression)`."""

    arity = 1
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite holds a duration as an integer of microseconds.
        return super().as_sql(compiler, connection, template="(%(expressions)s / 1000000.0)", **extra_context)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(
            f"duration_seconds() is written for PostgreSQL and SQLite, not {connection.vendor}."
        )


def duration_seconds(expression: str | Combinable) -> Func:
    """A duration (a DurationField name, or an expression with a DurationField output) in
    seconds as a float expression."""
    return _DurationSeconds(_expression(expression))


def percentiles(
    queryset: QuerySet,
    value: str | Combinable,
    fractions: tuple[float, ...] = (0.5, 0.9),
    *,
    group_by: str | list[str] | None = None,
) -> dict[tuple, Percentiles]:
    """The continuous percentiles (module docstring) of `value` — a numeric field name or
    expression, read as a float — over the rows of `queryset`, per group of the `group_by`
    fields or annotations (lookups across relations allowed, e.g. "account__tier"), in one query.

    Returns {group key: Percentiles(count, values)}: the key is the tuple of the group's values
    (`()` without group_by), `values` follow `fractions`. Without group_by there is always the
    one key `()`, even for an empty queryset (count 0, None values); with group_by, a group is
    present when the queryset has at least one row in it. Raises ValueError for a fraction
    outside 0..1 and TypeError for a sliced or distinct() queryset."""
    fractions = tuple(_checked_fraction(fraction) for fraction in fractions)
    if not fractions:
        raise ValueError("Ask for at least one fraction.")
    if queryset.query.is_sliced:
        raise TypeError("percentiles() needs the whole queryset; filter it rather than slicing it.")
    if queryset.query.distinct:
        # SQLite would make the (group, value) pairs distinct and lose the ties.
        raise TypeError("percentiles() counts every row; filter with Exists() or pk__in, not distinct().")
    groups = [group_by] if isinstance(group_by, str) else list(group_by or [])
    connection = connections[queryset.db]
    numeric = Cast(_expression(value), FloatField())
    if connection.vendor == "postgresql":
        return _percentiles_postgresql(queryset.order_by(), numeric, fractions, groups)
    if connection.vendor == "sqlite" and not groups and isinstance(value, str):
        return _percentiles_sqlite_ranked(queryset, value, fractions)
    if connection.vendor == "sqlite":
        return _percentiles_sqlite(queryset.order_by(), numeric, fractions, groups, connection)
    raise NotSupportedError(f"percentiles() is written for PostgreSQL and SQLite, not {connection.vendor}.")


def _percentiles_postgresql(queryset, numeric, fractions, groups) -> dict[tuple, Percentiles]:
    figures = {"percentile_count": Count(numeric)}
    figures |= {f"percentile_{i}": PercentileCont(numeric, fraction) for i, fraction in enumerate(fractions)}
    rows = queryset.values(*groups).annotate(**figures) if groups else [queryset.aggregate(**figures)]
    return {
        tuple(row[group] for group in groups): Percentiles(
            row["percentile_count"], tuple(row[f"percentile_{i}"] for i in range(len(fractions)))
        )
        for row in rows
    }


def _percentiles_sqlite(queryset, numeric, fractions, groups, connection) -> dict[tuple, Percentiles]:
    group_aliases = [f"percentile_group_{i}" for i in range(len(groups))]
    chosen = (
        queryset.annotate(**{alias: F(group) for alias, group in zip(group_aliases, groups, strict=True)})
        .annotate(percentile_value=numeric)
        .values(*group_aliases, "percentile_value")
    )
    try:
        chosen_sql, chosen_params = chosen.query.sql_with_params()
    except EmptyResultSet:  # queryset.none(), or a filter that can match nothing
        return {} if groups else {(): Percentiles(0, (None,) * len(fractions))}

    # The SQL below is assembled from quoted aliases, placeholders and the ORM's own SQL for the
    # queryset (whose parameters stay bound): no value is ever formatted into it.
    quote = connection.ops.quote_name
    group_columns = ", ".join(quote(alias) for alias in group_aliases)
    group_select = f"{group_columns}, " if groups else ""
    partition = f"PARTITION BY {group_columns}" if groups else ""
    value = quote("percentile_value")
    indices = range(len(fractions))
    # The values are numbered 1..n in their group, NULLs last (so they never take a rank that
    # counts), and each row learns n, the group's count of non-null values ...
    ranked = (
        f"SELECT {group_select}{value},"  # noqa: S608
        f" ROW_NUMBER() OVER ({partition} ORDER BY {value} NULLS LAST) AS value_rank,"
        f" COUNT({value}) OVER ({partition}) AS value_count"
        f" FROM ({chosen_sql}) AS chosen"
    )
    # ... and the position x = p × (n − 1) of each fraction (p bound once each) ...
    positioned = ", ".join(f"%s * (value_count - 1) AS position_{i}" for i in indices)
    # ... each group keeps the values at ranks ⌊x⌋ and ⌈x⌉ (plus 1: ROW_NUMBER counts from 1;
    # CAST truncates, which is the floor of a position ≥ 0) ...
    picked = ", ".join(
        f"MAX(position_{i}) AS position_{i},"
        f" MAX(CASE WHEN value_rank = 1 + CAST(position_{i} AS INTEGER) THEN {value} END) AS low_{i},"
        f" MAX(CASE WHEN value_rank = 1 + CAST(position_{i} AS INTEGER)"
        f" + (position_{i} > CAST(position_{i} AS INTEGER)) THEN {value} END) AS high_{i}"
        for i in indices
    )
    # ... and interpolates between them as percentile_cont does: low + (x − ⌊x⌋) × (high − low).
    interpolated = ", ".join(
        f"low_{i} + (position_{i} - CAST(position_{i} AS INTEGER)) * (high_{i} - low_{i})" for i in indices
    )
    group_clause = f" GROUP BY {group_columns}" if groups else ""
    sql = (
        f"SELECT {group_select}value_count, {interpolated} FROM ("  # noqa: S608
        f"SELECT {group_select}MAX(value_count) AS value_count, {picked} FROM ("
        f"SELECT *, {positioned} FROM ({ranked}) AS ranked"
        f") AS positioned{group_clause}"
        f") AS picked"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*fractions, *chosen_params])
        rows = cursor.fetchall()

    # The group values come back as SQLite stores them; convert them as the ORM would (a
    # TruncDate group is a date on both databases, not a string here).
    group_expressions = [chosen.query.annotations[alias] for alias in group_aliases]
    converters = [
        connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        for expression in group_expressions
    ]
    result = {}
    for row in rows:
        key = []
        for raw, expression, expression_converters in zip(
            row[: len(groups)], group_expressions, converters, strict=True
        ):
            for converter in expression_converters:
                raw = converter(raw, expression, connection)
            key.append(raw)
        count, *values = row[len(groups) :]
        result[tuple(key)] = Percentiles(count or 0, tuple(values))
    return result


def subset_percentiles(
    queryset: QuerySet,
    field_name: str,
    subsets: dict,
    fractions: tuple[float, ...] = (0.5, 0.9),
    *,
    counts: dict | None = None,
    sqlite_ranked: bool = True,
) -> dict:
    """The percentiles of one numeric field over named subsets of `queryset` ({key: Q}), as
    {key: Percentiles}: on PostgreSQL one query (a percentile_cont … FILTER (WHERE subset) per
    subset and fraction); on SQLite a count per subset (one query, or none when the caller
    passes `counts` {key: non-null values of the field in the subset}), then, per subset, the
    value-ordered reads of `percentiles` (or, with `sqlite_ranked=False` — when no index serves
    the subset in value order — its window-function query over the subset)."""
    fractions = tuple(_checked_fraction(fraction) for fraction in fractions)
    connection = connections[queryset.db]
    keys = list(subsets)
    present = Q(**{f"{field_name}__isnull": False})
    if connection.vendor == "postgresql":
        figures = {}
        for i, key in enumerate(keys):
            figures[f"count_{i}"] = Count(field_name, filter=subsets[key])
            for j, fraction in enumerate(fractions):
                figures[f"value_{i}_{j}"] = PercentileCont(
                    F(field_name), fraction, filter=subsets[key] & present
                )
        row = queryset.order_by().aggregate(**figures)
        return {
            key: Percentiles(row[f"count_{i}"], tuple(row[f"value_{i}_{j}"] for j in range(len(fractions))))
            for i, key in enumerate(keys)
        }
    if connection.vendor != "sqlite":
        raise NotSupportedError(
            f"percentiles() is written for PostgreSQL and SQLite, not {connection.vendor}."
        )
    if counts is None:
        row = queryset.order_by().aggregate(
            **{f"count_{i}": Count(field_name, filter=subsets[key]) for i, key in enumerate(keys)}
        )
        counts = {key: row[f"count_{i}"] for i, key in enumerate(keys)}
    result = {}
    for key in keys:
        subset = queryset.filter(subsets[key])
        if sqlite_ranked:
            result[key] = _percentiles_sqlite_ranked(subset, field_name, fractions, count=counts[key])[()]
        else:
            numeric = Cast(F(field_name), FloatField())
            result[key] = _percentiles_sqlite(subset.order_by(), numeric, fractions, [], connection)[()]
    return result


def _percentiles_sqlite_ranked(
    queryset, field_name: str, fractions, count: int | None = None
) -> dict[tuple, Percentiles]:
    """One field, no groups, on SQLite: count the values, then read the two values around each
    position in value order (ORDER BY the field, LIMIT 2 OFFSET ⌊x⌋). With an index that leads
    with the filter's equality columns and then the field, SQLite reads the values in order from
    the index and stops at the position, instead of sorting every row: tens of milliseconds over
    hundreds of thousands of rows, where numbering them all takes seconds. 1 + len(fractions)
    queries."""
    present = queryset.order_by().filter(**{f"{field_name}__isnull": False})
    if count is None:
        count = present.count()
    if not count:
        return {(): Percentiles(0, (None,) * len(fractions))}
    ordered = present.order_by(field_name).values_list(field_name, flat=True)
    values = []
    for fraction in fractions:
        position = fraction * (count - 1)
        low_rank = int(position)
        pair = list(ordered[low_rank : low_rank + 2])
        low = float(pair[0])
        high = float(pair[1]) if len(pair) > 1 else low
        values.append(low + (position - low_rank) * (high - low))
    return {(): Percentiles(count, tuple(values))}


def _expression(value: str | Combinable):
    return F(value) if isinstance(value, str) else value


def _checked_fraction(fraction: float) -> float:
    fraction = float(fraction)
    if not 0 <= fraction <= 1:
        raise ValueError(f"A percentile's fraction lies between 0 and 1, not {fraction}.")
    return fraction


class ObjectCase(Case):
    """A CASE Django tells apart by the object, not by walking its arguments: GROUP BY hashes
    every selected expression, and hashing a CASE of a dozen WHENs by their arguments cost about
    20 ms of a 90-day report page (the CASEs naming spans, weeks, bands and periods). Two
    ObjectCases are equal only if they are the same object."""

    @cached_property
    def identity(self):
        return (ObjectCase, id(self))
