"""Django's SQLite backend (``ENGINE = "clinicline.sqlite"``), reading a stored time by a
shorter path.

SQLite keeps a time as naive text in the connection's zone; the driver parses it (the
converter Django registers), and Django's ``convert_datetimefield_value`` then makes it
aware, reading ``settings.USE_TZ`` through the settings proxy for every value. On the
reminder job (bench/reminders.py) that read cost a twentieth of the whole. Here it is read
once a query, and a parsed naive time is given the connection's zone as Django's own
``timezone.make_aware`` gives it (``replace(tzinfo=...)``); any other value (text an
expression left unparsed, a time already aware, ``None``) goes Django's own way. What is
read is the same: ``tests/test_sqlite_backend.py`` compares the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base, operations

Converter = Callable[[Any, Any, Any], Any]


class DatabaseOperations(operations.DatabaseOperations):
    def get_db_converters(self, expression: Any) -> list[Converter]:
        converters: list[Converter] = super().get_db_converters(expression)
        own = self.convert_datetimefield_value
        return [self.aware_converter() if c == own else c for c in converters]

    def aware_converter(self) -> Converter:
        """Django's ``convert_datetimefield_value``, with ``USE_TZ`` and the zone read now."""
        own = self.convert_datetimefield_value
        if not settings.USE_TZ:
            return own
        zone = self.connection.timezone

        def convert(value: Any, expression: Any, connection: Any) -> Any:
            if type(value) is dt.datetime and value.tzinfo is None:
                return value.replace(tzinfo=zone)
            return own(value, expression, connection)

        return convert


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
