"""``clinicline.sqlite``: Django's SQLite backend, reading a stored time by a shorter path
that gives what Django's own converter gives."""

from __future__ import annotations

import datetime as dt
import warnings

from django.db.utils import ConnectionHandler
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from clinicline.outreach.appointment_models import Reminder
from tests.support_proc import base_env, clinicline

SEND_AT = Reminder._meta.get_field("send_at").get_col(Reminder._meta.db_table)


def sqlite_connection():
    """A connection of our backend to a database in memory (whichever the tests run on)."""
    return ConnectionHandler({"default": {"ENGINE": "clinicline.sqlite",
                                          "NAME": ":memory:"}})["default"]


def converted(connection, value):
    """(what our converters make of a value read, what Django's own converter makes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = connection.ops.convert_datetimefield_value(value, SEND_AT, connection)
    got = value
    for convert in connection.ops.get_db_converters(SEND_AT):
        got = convert(got, SEND_AT, connection)
    return got, theirs


SOME = [None, dt.datetime(2026, 12, 3, 9, 30), dt.datetime(2026, 3, 8, 6, 59, 59, 999999),
        dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC), "2026-12-03 09:30:00",
        "2026-12-03 09:30:00.123456"]


def test_a_stored_time_reads_as_django_reads_it():
    connection = sqlite_connection()
    assert connection.ops.convert_datetimefield_value not in connection.ops.get_db_converters(
        SEND_AT)  # the shorter path is the one taken
    for value in SOME:
        got, theirs = converted(connection, value)
        assert (got, getattr(got, "tzinfo", None)) == (theirs, getattr(theirs, "tzinfo", None))
    assert converted(connection, SOME[1])[0].tzinfo is dt.UTC


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)))
def test_any_naive_time_reads_as_django_reads_it(value):
    got, theirs = converted(sqlite_connection(), value)
    assert got == theirs and got.tzinfo == theirs.tzinfo


def test_without_time_zones_djangos_own_converter_is_used():
    connection = sqlite_connection()
    with override_settings(USE_TZ=False):
        assert connection.ops.aware_converter() == connection.ops.convert_datetimefield_value
        got, theirs = converted(connection, SOME[1])
    assert got == theirs and got.tzinfo is None


def test_a_sqlite_database_takes_our_backend(tmp_path):
    """The default database (a SQLite file) is served by this backend, its connections in
    WAL mode with a page cache of 64 MiB."""
    shown = clinicline("shell", "-v", "0", "-c", "from django.db import connection; "
                       "c = connection.cursor(); c.execute('PRAGMA cache_size'); "
                       "size = c.fetchone()[0]; c.execute('PRAGMA journal_mode'); "
                       "print(type(connection.ops).__module__, size, c.fetchone()[0])",
                       env=base_env(tmp_path))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "clinicline.sqlite.base -65536 wal"
