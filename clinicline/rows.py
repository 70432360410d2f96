"""Rows INSERTed (and UPDATEd) in plain SQL, for the writes that are many or hot.

``insert(instance)`` does what ``instance.save(force_insert=True)`` does for a model with
no signals to send (defaults, ``auto_now_add``, encrypted fields sealed by their own
``pre_save``), without building the ORM's query each time: on the sms webhook that building
cost more than the INSERTs themselves, as with audit appends. ``insert_many`` does the same
for many rows of one model as one statement run for each (``executemany``), and
``update_many`` writes named columns of many saved rows by key: on the reminder job
(bench/reminders.py) ``bulk_create``'s compiling cost more than the decisions it wrote, and
``bulk_update``'s CASE WHENs more than that. Every value goes through its field as the ORM
sends it (``pre_save``, then ``get_db_prep_save``), so what is stored is the same. The
INSERT statement is made once per model and database vendor.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model


@functools.cache
def _statement(model: type[Model], vendor: str) -> tuple[str, tuple[Field, ...]]:
    quote = connection.ops.quote_name
    fields = tuple(model._meta.concrete_fields)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names)
            f"VALUES ({marks})", fields)


def insert(instance: Model) -> None:
    """INSERT ``instance`` (its primary key set by its field's default, as UUIDs are)."""
    insert_many([instance])


def insert_many(instances: Sequence[Model]) -> None:
    """INSERT ``instances``, unsaved rows of one model whose primary keys are set; afterwards
    they are saved instances."""
    if not instances:
        return
    model = _one_model(instances)
    if any(instance.pk is None for instance in instances):
        raise ValueError("rows are inserted with their primary key set")
    sql, fields = _statement(model, connection.vendor)
    values = [[f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
              for instance in instances]
    with connection.cursor() as cursor:
        if len(values) == 1:
            cursor.execute(sql, values[0])
        else:
            cursor.executemany(sql, values)
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias


def update_many(instances: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE the columns ``names`` of ``instances`` (saved rows of one model) to the values
    on the instances, row by primary key."""
    if not instances:
        return
    model = _one_model(instances)
    meta, quote = model._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if f.name in names]
    if len(fields) != len(set(names)):
        raise ValueError(f"{model.__name__} has no such columns: {sorted(names)}")
    sql = (f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608 (fixed names)
           + ", ".join(f"{quote(f.column)} = %s" for f in fields)
           + f" WHERE {quote(meta.pk.column)} = %s")
    values = [[f.get_db_prep_save(f.pre_save(instance, add=False), connection) for f in fields]
              + [meta.pk.get_db_prep_value(instance.pk, connection)] for instance in instances]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _one_model(instances: Sequence[Model]) -> type[Model]:
    model = type(instances[0])
    if any(type(instance) is not model for instance in instances):
        raise ValueError("rows of one model at a time")
    return model
