"""Expressions more than one app computes in SQL, written for PostgreSQL and SQLite alike: the
seconds between two instants, and the band a value falls in among fixed bounds. They live here,
below every app, because a model's generated columns and indexes are declared with them (the
feedback log's wait bands) and the reports read the same values (reports.aggregates)."""

from django.db import NotSupportedError
from django.db.models import Case, F, FloatField, Func, IntegerField, Value, When
from django.db.models.expressions import Combinable
from django.db.models.lookups import IsNull, LessThan


class SecondsBetween(Func):
    """end − start in seconds (float). Built by `seconds_between(start, end)`."""

    arity = 2
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        sql = f"CAST(EXTRACT(EPOCH FROM ({end_sql}) - ({start_sql})) AS double precision)"
        return sql, (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores a datetime as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]". The whole seconds
        # between the first 19 characters come from julianday() (rounded: a day is a float
        # there, exact to well under a millisecond), the microseconds from the digits after the
        # dot ("" and ".123" read as 000000 and 123000); their sum is an exact integer of
        # microseconds, divided once, as PostgreSQL does. julianday() of the whole text would
        # keep milliseconds only; strftime('%s') costs twice as much.
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        sql = (
            f"(CAST(ROUND((julianday(substr({end_sql}, 1, 19)) - julianday(substr({start_sql}, 1, 19)))"
            f" * 86400) AS INTEGER) * 1000000 + {_sqlite_microseconds(end_sql)}"
            f" - {_sqlite_microseconds(start_sql)}) / 1000000.0"
        )
        return sql, (*end_params, *start_params, *end_params, *start_params)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(
            f"seconds_between() is written for PostgreSQL and SQLite, not {connection.vendor}."
        )


def _sqlite_microseconds(sql: str) -> str:
    return f"CAST(substr(substr({sql}, 21) || '000000', 1, 6) AS INTEGER)"


def seconds_between(start: str | Combinable, end: str | Combinable) -> Func:
    """The seconds from `start` to `end` (datetime field names or expressions) as a float
    expression, microseconds included; NULL when either is NULL. Usable in `annotate`,
    `filter` and as the value of `percentiles`."""
    return SecondsBetween(_expression(end), _expression(start))


def band_case(value: str | Combinable, bounds: tuple) -> Case:
    """The band `value` falls in: band i holds [bounds[i-1], bounds[i]) (band 0 everything below
    bounds[0]), the last band, len(bounds), everything from bounds[-1] on; NULL when the value is
    NULL."""
    value = _expression(value)
    return Case(
        When(IsNull(value, True), then=Value(None)),
        *(When(LessThan(value, bound), then=Value(i)) for i, bound in enumerate(bounds)),
        default=Value(len(bounds)),
        output_field=IntegerField(),
    )


def _expression(value: str | Combinable):
    return F(value) if isinstance(value, str) else value
