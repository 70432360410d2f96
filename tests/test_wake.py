"""Work due now wakes the workers: on PostgreSQL one NOTIFY in the transaction that made
it (delivered as it commits); on SQLite nothing at all (one worker polls). What a listener
receives, and a real worker woken this way: tests/test_wake_postgres.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicline import wake

pytestmark = pytest.mark.django_db


def test_announcing_new_work_is_one_notify_on_postgresql_and_nothing_on_sqlite():
    with CaptureQueriesContext(connection) as queries:
        wake.notify_workers()
    sent = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert sent == [f"SELECT pg_notify('{wake.CHANNEL}', '')"]
    else:
        assert sent == []
