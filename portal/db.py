"""Fast bulk writes for the few places that touch tens of thousands of rows at once (the daily
cadence pass, demo seeding).

Django's bulk_update builds one CASE expression per field per batch, which grows slow with the
batch, and bulk_create builds a model instance per row. Here values still go through each
field's own get_db_prep_save, so time zones, JSON and foreign keys are stored exactly as the ORM
would store them, but rows travel in the cheapest way each database offers: on PostgreSQL COPY
for inserts and UPDATE … FROM (VALUES …) for updates (one round trip per thousand rows, not per
row); on SQLite, which has no round trips, multi-row INSERTs and executemany.

Identifiers in the SQL come from model metadata, never from input; values are always bound.
"""

import contextlib
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models

UPDATE_BATCH = 1000


def _as_is(field, postgresql: bool) -> frozenset | None:
    """The exact types of value the field stores as they are (its get_db_prep_save would return
    them unchanged): bulk writes pass those straight on, which at millions of values is most of
    the time of a seed. None: always prepare."""
    target = field.target_field if field.is_relation else field
    if isinstance(target, (models.CharField, models.TextField)):
        return frozenset({str, type(None)})
    if isinstance(target, models.BooleanField):
        return frozenset({bool, type(None)})
    if isinstance(target, models.IntegerField):
        return frozenset({int, type(None)})
    if not postgresql:  # SQLite stores dates and decimals as text the ORM formats
        return None
    if isinstance(target, models.DateTimeField):
        return frozenset({dt.datetime, type(None)})  # aware ones only: see _preparer
    if isinstance(target, models.DateField):
        return frozenset({dt.date, type(None)})
    if isinstance(target, models.DecimalField):
        return frozenset({Decimal, type(None)})
    return None


def _preparer(fields) -> Callable[[Sequence], list]:
    """A function preparing one row of values for `fields`, as the ORM's get_db_prep_save would."""
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: its attribute lookups cost per value
    steps = []
    for field in fields:
        prepare = functools.partial(field.get_db_prep_save, connection=db)
        as_is = _as_is(field, db.vendor == "postgresql")
        if isinstance(field, models.JSONField) and field.encoder is None:
            # What the ORM stores for a dict or list, on either database: its json.dumps text.
            steps.append(lambda v, prepare=prepare: json.dumps(v) if type(v) in (dict, list) else prepare(v))
        elif as_is is None:
            steps.append(prepare)
        elif dt.datetime in as_is:  # a naive one is made aware by the ORM (with a warning)
            steps.append(
                lambda v, prepare=prepare: (
                    v if v is None or (type(v) is dt.datetime and v.tzinfo is not None) else prepare(v)
                )
            )
        else:
            steps.append(lambda v, prepare=prepare, as_is=as_is: v if type(v) in as_is else prepare(v))

    def prepare_row(values: Sequence) -> list:
        return [step(value) for step, value in zip(steps, values, strict=True)]

    return prepare_row


def _batched(rows: Iterable, size: int):  # itertools.batched arrives in Python 3.12
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _unlogged(cursor):
    """The cursor beneath Django's: with DEBUG on, Django keeps the last 9,000 statements with
    their values spelled out, which for thousand-row INSERTs is most of a seed's memory and time
    on SQLite (COPY on PostgreSQL goes beneath it already). Errors still arrive as Django's."""
    return _ErrorsWrapped(cursor.cursor)


class _ErrorsWrapped:
    def __init__(self, cursor):
        self.cursor = cursor

    def execute(self, sql, params):
        with connection.wrap_database_errors:
            return self.cursor.execute(sql, params)

    def executemany(self, sql, param_list):
        with connection.wrap_database_errors:
            return self.cursor.executemany(sql, param_list)


def bulk_update_rows(model, field_names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """For each row `(value, ..., pk)`: UPDATE the row's `field_names` to the values."""
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    prepare = _preparer(fields)
    prepared = ([*prepare(row[:-1]), row[-1]] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            casts = [f.db_type(connection) for f in fields] + [
                meta.pk.db_type(connection).replace("serial", "integer")
            ]
            one_row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
            names = ", ".join(f"c{i}" for i in range(len(fields))) + ", pk"
            assignments = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
            for batch in _batched(prepared, UPDATE_BATCH):
                values = ", ".join([one_row] * len(batch))
                sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names}) WHERE {table}.{pk} = v.pk"  # noqa: S608
                _unlogged(cursor).execute(sql, [value for row in batch for value in row])
        else:
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
            for batch in _batched(prepared, UPDATE_BATCH):
                _unlogged(cursor).executemany(sql, batch)


def bulk_insert_rows(model, field_names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """INSERT one row per tuple of values for `field_names` (every NOT NULL column included)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    prepare = _preparer(fields)
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(prepare(row))
            return
        one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, min(1000, (connection.features.max_query_params or 999) // len(fields)))
        for batch in _batched(rows, per_statement):
            values = ", ".join([one_row] * len(batch))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
            _unlogged(cursor).execute(sql, [value for row in batch for value in prepare(row)])


def bulk_create_with_ids(model, objs: list) -> None:
    """Django's bulk_create for new objects, each given its primary key. On PostgreSQL the keys
    are drawn from the table's sequence first, then the rows go through COPY (bulk_insert_rows):
    bulk_create prepared each value field by field, 9 s of the 47,000 SLA clocks of a
    500,000-case seed. Elsewhere (SQLite) Django's own bulk_create."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    fields = meta.concrete_fields
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
    try:
        rows = ([f.pre_save(obj, True) for f in fields] for obj in objs)
        bulk_insert_rows(model, [f.name for f in fields], rows)
    except Exception:
        for obj in objs:  # as bulk_create leaves them: not saved, no key
            obj.pk = None
        raise
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


@contextlib.contextmanager
def sole_run(key: int):
    """Whether this process may run a pass now that must not run twice at once (across worker
    clusters): on PostgreSQL a session advisory lock on `key` (any fixed 64-bit number, the same
    in every process), tried without waiting. The lock belongs to the database session, not to a
    transaction, so the work inside still commits as it goes; it is released on the way out, or by
    PostgreSQL when a killed worker's connection closes. Elsewhere (SQLite, which serialises
    writes anyway) always True."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextlib.contextmanager
def bulk_load():
    """Inside a transaction, around a bulk load of rows that refer to one another (seed_demo):
    on PostgreSQL, when the connection may (a superuser, as a throwaway or local cluster's
    `postgres`), the per-row foreign-key checks are skipped while loading, and every foreign key
    of the project's tables is checked at the end instead, one anti-join per key; a dangling one
    raises IntegrityError and the transaction rolls back. Checked row by row, the deferred keys
    of millions of rows took longer at COMMIT than writing them. Elsewhere nothing changes."""
    if connection.vendor != "postgresql" or not _replica_role():
        yield
        return
    yield  # (an error leaves here: the rollback ends the setting with the transaction)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")
    foreign_keys_check()


def _replica_role() -> bool:
    """Whether this transaction now skips row triggers (foreign-key checks among them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not (row and row[0]):
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def foreign_keys_check() -> None:
    """Raise IntegrityError naming the first foreign key (of any installed model) whose value
    points at no row."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            for field in model._meta.concrete_fields:
                if not (field.is_relation and field.many_to_one and field.db_constraint):
                    continue
                target = field.target_field
                child, column = quote(model._meta.db_table), quote(field.column)
                parent, key = quote(target.model._meta.db_table), quote(target.column)
                cursor.execute(
                    f"SELECT c.{column} FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                    f"(SELECT 1 FROM {parent} p WHERE p.{key} = c.{column}) LIMIT 1"
                )
                dangling = cursor.fetchone()
                if dangling:
                    raise IntegrityError(
                        f"{model._meta.label}.{field.name} = {dangling[0]} refers to no {target.model._meta.label}"
                    )
