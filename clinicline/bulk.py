"""Many rows of one model written in one batch: ``insert`` and ``update``.

What ``bulk_create`` and ``bulk_update`` do, as one statement run for every row
(``executemany``) instead of statements the ORM compiles value by value. Each value still
goes through its field as the ORM sends it (``pre_save``, then ``get_db_prep_save``: an
encrypted field seals there), so what is stored is the same. Measured on the reminder job
(bench/reminders.py): ``bulk_create``'s compiling cost more than the decisions it wrote, and
``bulk_update``'s CASE WHENs more than that. No signals are sent, as with ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Field, Model


def insert(rows: Sequence[Model]) -> None:
    """INSERT ``rows``, unsaved instances of one model whose primary keys are already set
    (a UUID default); afterwards they are saved instances."""
    if not rows:
        return
    model, db = _model(rows), router.db_for_write(type(rows[0]))
    connection = connections[db]
    fields = list(model._meta.concrete_fields)
    if any(row.pk is None for row in rows):
        raise ValueError("bulk.insert writes rows whose primary key is set")
    ops = connection.ops
    sql = (f"INSERT INTO {ops.quote_name(model._meta.db_table)} "  # noqa: S608 (fixed names)
           f"({', '.join(ops.quote_name(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    values = [[f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
    for row in rows:
        row._state.adding, row._state.db = False, db


def update(rows: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE the columns ``names`` of ``rows`` (saved instances of one model) to their
    values on the instances, row by primary key."""
    if not rows:
        return
    model = _model(rows)
    connection = connections[router.db_for_write(model)]
    meta, ops = model._meta, connection.ops
    fields: list[Field] = [f for f in meta.concrete_fields if f.name in names]
    if len(fields) != len(set(names)):
        raise ValueError(f"{model.__name__} has no such columns: {sorted(names)}")
    sql = (f"UPDATE {ops.quote_name(meta.db_table)} SET "  # noqa: S608 (fixed names)
           + ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
           + f" WHERE {ops.quote_name(meta.pk.column)} = %s")
    values = [[f.get_db_prep_save(f.pre_save(row, False), connection) for f in fields]
              + [meta.pk.get_db_prep_value(row.pk, connection)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _model(rows: Sequence[Model]) -> type[Model]:
    model = type(rows[0])
    if any(type(row) is not model for row in rows):
        raise ValueError("one model at a time")
    return model
