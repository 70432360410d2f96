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
INSERT statement is made once per model and database vendor, and so is each field's way to
its value (``_prep``): for the plain kinds these rows hold (text, numbers, flags, aware
times, UUIDs and keys to them) the same value by a shorter path, since on the reminder job
the ORM's own path through each field cost more than the INSERTs; any other field or value
takes the field's own path.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
    UUIDField,
)
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

Prep = Callable[[Any, BaseDatabaseWrapper], Any]  # a value as the database is sent it
# Fields of these exact kinds send a value of the type as it is (their get_prep_value makes
# it that type, and their get_db_prep_value adds nothing).
PLAIN: dict[type[Field], type] = {CharField: str, TextField: str, BooleanField: bool}
# And these an int as the backend adapts it (PostgreSQL's driver takes it typed).
INTEGERS = (IntegerField, SmallIntegerField, PositiveSmallIntegerField, PositiveIntegerField,
            BigIntegerField)


def _db() -> BaseDatabaseWrapper:
    """The connection itself (``django.db.connection`` is a proxy that looks it up again at
    every attribute)."""
    return connections[DEFAULT_DB_ALIAS]


@functools.cache
def _statement(model: type[Model], vendor: str) -> str:
    quote = _db().ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names)
            f"VALUES ({marks})")


@functools.cache
def _preps(model: type[Model], add: bool) -> tuple[tuple[Callable[[Model], Any], Prep], ...]:
    """Each concrete field's (value on the instance as saved, value as sent)."""
    return tuple((_pre_save(f, add), _prep(f)) for f in model._meta.concrete_fields)


def _pre_save(field: Field, add: bool) -> Callable[[Model], Any]:
    """The field's value as saved. The attribute as it is where ``pre_save`` returns it: a
    plain field's, a time's (``_stamp`` sets beforehand the ones ``pre_save`` sets to now),
    and a date's it leaves alone; any other field's own ``pre_save``."""
    own = type(field).pre_save
    if own in (Field.pre_save, DateTimeField.pre_save) or (
            own is DateField.pre_save and not _auto(field, add)):
        return operator.attrgetter(field.attname)
    return lambda instance: field.pre_save(instance, add)


def _auto(field: Any, add: bool) -> bool:
    """A date or time its field's ``pre_save`` sets to now (``auto_now``, ``auto_now_add``
    on an insert)."""
    return bool(field.auto_now or (field.auto_now_add and add))


@functools.cache
def _stamped(model: type[Model], add: bool) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields
                 if type(f).pre_save is DateTimeField.pre_save and _auto(f, add))


def _stamp(instances: Sequence[Model], add: bool, among: Sequence[Field] | None = None) -> None:
    """The times ``pre_save`` would set to now (of the fields ``among``, or all), set to one
    now for the whole statement (as one statement writes them), on the instances as the
    field's own ``pre_save`` sets them."""
    names = [name for name in _stamped(type(instances[0]), add)
             if among is None or any(f.attname == name for f in among)]
    if names:
        now = timezone.now()
        for instance in instances:
            for name in names:
                setattr(instance, name, now)


def _prep(field: Field) -> Prep:
    """``field.get_db_prep_save`` for the field's values, by a shorter path for plain kinds
    of field and value; any other value goes the field's own way."""
    def own(value: Any, db: BaseDatabaseWrapper) -> Any:
        return field.get_db_prep_save(value, db)

    # For each kind below, None is sent as None (NULL), as the field's own way sends it.
    kind = type(field)
    if isinstance(field, ForeignKey):
        target = _prep(field.target_field)
        # "" to a key that takes no empty string is NULL: the field's own way.
        return lambda v, db: None if v is None else own(v, db) if v == "" else target(v, db)
    if kind is UUIDField:
        return lambda v, db: ((v if db.features.has_native_uuid_field else v.hex)
                              if type(v) is uuid.UUID else None if v is None else own(v, db))
    if kind is DateTimeField:
        return _time_prep(own)
    plain = PLAIN.get(kind)
    if plain is not None:
        return lambda v, db: v if type(v) is plain or v is None else own(v, db)
    if kind in INTEGERS:
        internal = field.get_internal_type()
        return lambda v, db: (db.ops.adapt_integerfield_value(v, internal) if type(v) is int
                              else None if v is None else own(v, db))
    if isinstance(field, AutoFieldMixin) and isinstance(field, IntegerField):
        return lambda v, db: (db.ops.validate_autopk_value(v) if type(v) is int
                              else None if v is None else own(v, db))
    return own


def _time_prep(own: Prep) -> Prep:
    """An aware time as sent: as it is where the driver takes one (PostgreSQL), else as the
    naive text of it in the connection's zone (SQLite), as the backends' own
    ``adapt_datetimefield_value`` make it."""
    def prep(v: Any, db: BaseDatabaseWrapper) -> Any:
        if v is None:
            return None
        if type(v) is not dt.datetime or v.utcoffset() is None:
            return own(v, db)
        if db.vendor == "postgresql":
            return v
        if db.vendor == "sqlite":
            return str(v.astimezone(db.timezone).replace(tzinfo=None))
        return own(v, db)
    return prep


def _values(instance: Model, preps: tuple[tuple[Callable[[Model], Any], Prep], ...],
            db: BaseDatabaseWrapper) -> list[Any]:
    return [prep(pre(instance), db) for pre, prep in preps]


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
    db = _db()
    sql = _statement(model, db.vendor)
    preps = _preps(model, True)
    _stamp(instances, True)
    values = [_values(instance, preps, db) for instance in instances]
    with db.cursor() as cursor:
        if len(values) == 1:
            cursor.execute(sql, values[0])
        else:
            cursor.executemany(sql, values)
    for instance in instances:
        instance._state.adding, instance._state.db = False, db.alias


def update_many(instances: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE the columns ``names`` of ``instances`` (saved rows of one model) to the values
    on the instances, row by primary key."""
    if not instances:
        return
    model, db = _one_model(instances), _db()
    meta, quote = model._meta, db.ops.quote_name
    wanted = [(f, p) for f, p in zip(meta.concrete_fields, _preps(model, False),
                                     strict=True) if f.name in names]
    if len(wanted) != len(set(names)):
        raise ValueError(f"{model.__name__} has no such columns: {sorted(names)}")
    sql = (f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608 (fixed names)
           + ", ".join(f"{quote(f.column)} = %s" for f, _ in wanted)
           + f" WHERE {quote(meta.pk.column)} = %s")
    preps = tuple(p for _, p in wanted)
    _stamp(instances, False, [f for f, _ in wanted])
    values = [_values(instance, preps, db) + [meta.pk.get_db_prep_value(instance.pk, db)]
              for instance in instances]
    with db.cursor() as cursor:
        cursor.executemany(sql, values)


def _one_model(instances: Sequence[Model]) -> type[Model]:
    model = type(instances[0])
    if any(type(instance) is not model for instance in instances):
        raise ValueError("rows of one model at a time")
    return model
