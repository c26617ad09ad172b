"""Writing many model instances fast: on PostgreSQL their ids are taken from the table's sequence
first (so the rows that point at them can be built before anything is written) and the rows go in
with COPY, values adapted by psycopg itself (Django's per-value preparation costs more than the
copy at this size); elsewhere `bulk_create`, which gives back the ids. Instances get their
auto_now / auto_now_add times as `save()` would have given them."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField, Model
from django.utils import timezone


def insert(model: type[Model], objs: Sequence[Model]) -> None:
    """Insert `objs` (new instances of `model`, foreign keys set by id or by saved instance),
    setting their primary keys."""
    if not objs:
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objs:
        for field in stamped:
            if getattr(obj, field.attname) is None:
                setattr(obj, field.attname, now)
        for field in model._meta.concrete_fields:  # a related instance saved since it was set
            if field.is_relation and getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    setattr(obj, field.attname, related.pk)
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=500)
        return
    _copy(model, fields, objs)


def _copy(model: type[Model], fields: list, objs: Sequence[Model]) -> None:
    from psycopg.types.json import Jsonb

    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        json = [isinstance(f, JSONField) for f in fields]
        names = [f.attname for f in fields]
        columns = ", ".join(quote(c) for c in [meta.pk.column, *(f.column for f in fields)])
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                values = [getattr(obj, name) for name in names]
                copy.write_row(
                    [
                        obj.pk,
                        *(Jsonb(v) if j and v is not None else v for v, j in zip(values, json, strict=True)),
                    ]
                )
