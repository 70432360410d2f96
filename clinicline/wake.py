"""Waking the workers when work falls due now, instead of at their next poll.

On PostgreSQL, code that makes work due now (a page opened, a delivery queued for now)
calls ``notify_workers()`` in its transaction: ``NOTIFY clinicline_work``, which PostgreSQL
delivers when that transaction commits, drops if it (or the savepoint) rolls back, and
sends once however often one transaction asks. Each worker's ``Listener`` waits on
``LISTEN clinicline_work`` between polls, on a connection of its own, and the worker runs
its woken jobs at once.

A notification is a hint, never the only way work is found: one sent while a worker was
reconnecting is lost, and the next poll finds the row anyway (a reconnect also counts as a
wake-up, for what it may have missed). On SQLite there is nothing to listen to and
``notify_workers`` does nothing; one worker polls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import time
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger("clinicline.wake")

CHANNEL = "clinicline_work"
RECONNECT_MAX_S = 10.0
# A network that silently drops the listening connection (no FIN, no RST) is noticed by
# TCP keepalives within about 25 s; without them the worker would only poll, unaware.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}


def notify_workers(using: str = DEFAULT_DB_ALIAS) -> None:
    """Work is due now: wake the workers as the current transaction commits (at once
    outside one). Nothing on SQLite."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


class Listener:
    """``LISTEN clinicline_work`` on a connection of its own (never one a job or a request
    uses: a job's transaction would hold notifications back until it ends), for the
    worker's ``wait``. A lost connection is not an error: the worker polls meanwhile, and
    the listener reconnects, backing off up to ``RECONNECT_MAX_S``."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.params: dict[str, Any] = {
            **KEEPALIVES, **connections[using].get_connection_params(), "autocommit": True}
        self.conn: psycopg.Connection[Any] | None = None
        self.failures = 0
        self.retry_at = 0.0
        # ``interrupt`` writes a byte here: a stopping worker need not wait out the poll.
        self.interrupted, self.interrupter = os.pipe()
        os.set_blocking(self.interrupted, False)
        os.set_blocking(self.interrupter, False)

    def wait(self, timeout: float) -> bool:
        """Until work is announced (True), ``timeout`` passes or ``interrupt`` is called
        (False). Every notification already received is taken at once: a burst is one
        wake-up."""
        deadline = time.monotonic() + timeout
        while True:
            if self.conn is None and time.monotonic() >= self.retry_at and self.connect():
                return True  # whatever was announced while nobody listened is due now
            left = deadline - time.monotonic()
            watched = [self.interrupted]
            if self.conn is not None:
                watched.append(self.conn.fileno())
            else:
                left = min(left, self.retry_at - time.monotonic())
            ready, _, _ = select.select(watched, [], [], max(left, 0.0))
            if self.interrupted in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.interrupted, 64)
                return False
            if ready and self.received():
                return True
            if time.monotonic() >= deadline:
                return False

    def received(self) -> bool:
        """Takes every notification waiting on the connection; True if there was one."""
        assert self.conn is not None  # only called while listening
        try:
            return sum(1 for _ in self.conn.notifies(timeout=0)) > 0
        except psycopg.Error as exc:
            self.lost(exc)
            return False

    def connect(self) -> bool:
        try:
            conn = psycopg.connect(**self.params)
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            self.lost(exc)
            return False
        self.conn = conn
        if self.failures:
            log.warning("listening for new work again")
        self.failures = 0
        return True

    def lost(self, exc: Exception) -> None:
        """Said once per outage, by type only; the next try is backed off."""
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None
        if not self.failures:
            log.warning("not listening for new work (%s); polling until the database is "
                        "back", type(exc).__name__)
        self.failures += 1
        self.retry_at = time.monotonic() + min(RECONNECT_MAX_S, 0.5 * 2 ** min(self.failures, 8))

    def interrupt(self) -> None:
        """Ends a ``wait`` now (safe from a signal handler and from another thread)."""
        if self.interrupter < 0:  # closed: its number may belong to another file now
            return
        with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
            os.write(self.interrupter, b".")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None
        fds, self.interrupted, self.interrupter = (self.interrupted, self.interrupter), -1, -1
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
