"""One row INSERTed in plain SQL, for the few writes every webhook makes.

``insert(instance)`` does what ``instance.save(force_insert=True)`` does for a model with
no signals to send (defaults, ``auto_now_add``, encrypted fields sealed by their own
``pre_save``), without building the ORM's query each time: on the sms webhook that building
cost more than the INSERTs themselves, as with audit appends. The statement is made once
per model and database vendor.
"""

from __future__ import annotations

import functools

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
    sql, fields = _statement(type(instance), connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
    instance._state.adding, instance._state.db = False, connection.alias
