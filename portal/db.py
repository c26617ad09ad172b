"""Fast bulk writes for the few places that touch tens of thousands of rows at once (the daily
cadence pass, demo seeding). Django's bulk_update builds one CASE expression per field per
batch, which grows slow with the batch; one parameterised statement run with executemany is
several times faster on SQLite and PostgreSQL alike. Values go through each field's own
get_db_prep_save, so time zones, JSON and foreign keys are stored exactly as the ORM would."""

from collections.abc import Iterable, Sequence

from django.db import connection


def _prepare(fields, values):
    return [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]


def bulk_update_rows(
    model, field_names: Sequence[str], rows: Iterable[Sequence], batch_size: int = 5000
) -> None:
    """For each row `(value, ..., pk)`: UPDATE the row's `field_names` to the values."""
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    # Identifiers come from model metadata, never from input; values are bound parameters.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    _executemany(sql, ([*_prepare(fields, row[:-1]), row[-1]] for row in rows), batch_size)


def bulk_insert_rows(
    model, field_names: Sequence[str], rows: Iterable[Sequence], batch_size: int = 5000
) -> None:
    """INSERT one row per tuple of values for `field_names` (every NOT NULL column included)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    _executemany(sql, (_prepare(fields, row) for row in rows), batch_size)


def _executemany(sql: str, params: Iterable[list], batch_size: int) -> None:
    batch = []
    with connection.cursor() as cursor:
        for row in params:
            batch.append(row)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
