"""The database unreachable, for real, for as long as a test needs it.

The open connection is set aside and the database driver's own ``connect`` refuses, as a
stopped PostgreSQL server or an unreadable SQLite file does: the next query reconnects,
fails in the driver, and reaches our code as Django's ``OperationalError``, the way an
outage does. Everything is put back afterwards (the set-aside connection still holds the
test's transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import connections
from django.db.utils import OperationalError


@contextmanager
def database_down(alias: str = "default") -> Iterator[mock.MagicMock]:
    wrapper = connections[alias]
    wrapper.ensure_connection()
    saved = dict(vars(wrapper))
    refused = wrapper.Database.OperationalError("connection refused")
    with mock.patch.object(wrapper.Database, "connect", side_effect=refused) as connect:
        wrapper.connection = None
        try:
            yield connect
        finally:
            vars(wrapper).clear()
            vars(wrapper).update(saved)


@contextmanager
def goes_away_at(statement: str, alias: str = "default") -> Iterator[None]:
    """The database drops the connection when ``statement`` (its first word, e.g.
    "INSERT") is sent: a request caught mid-flight by an outage."""
    wrapper = connections[alias]

    def cut(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        if sql.lstrip().upper().startswith(statement):
            # As Django hands the driver's error on (this hook runs outside its wrapper).
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with wrapper.execute_wrapper(cut):
        yield
