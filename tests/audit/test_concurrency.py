"""Writers appending at the same time still make one chain: seqs 1..N, no fork, no gap.

Concurrency is real on both databases, but not the same way. PostgreSQL: threads, each on
its own connection to the test database (transaction=True, so they see committed rows),
with a reader verifying throughout. SQLite: the test database is in memory, private to one
connection (a shared-cache one locks whole tables and fails at once instead of waiting), so
real writers there are what a one-office install runs: separate processes on one database
file, in WAL mode with IMMEDIATE transactions.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import connection

from clinicline.audit.models import Action, AuditEvent
from clinicline.audit.service import record
from clinicline.audit.verify import Verdict, verify
from tests.support_proc import TIMEOUT_S, base_env, clinicline, start_together

WRITERS, EACH = 4, 50

# One writer process: set up, say it is ready, wait for the start signal, append.
APPENDER = """
import sys, time, pathlib, django
django.setup()
from clinicline.audit.models import Action
from clinicline.audit.service import record
writer, each, signals = int(sys.argv[1]), int(sys.argv[2]), pathlib.Path(sys.argv[3])
(signals / f"ready-{writer}").touch()
while not (signals / "go").exists():
    time.sleep(0.005)
for i in range(each):
    record(Action.VIEW, practice=1, reason=f"writer {writer} event {i}")
    time.sleep(0.001)  # a request's worth of other work, so the writers overlap
"""


def interleaved(reasons: list[str]) -> bool:
    """Did the writers take turns, rather than one finishing before the next began? If not,
    the test proved nothing about concurrency."""
    writers = [reason.split()[1] for reason in reasons]
    return sum(a != b for a, b in zip(writers, writers[1:], strict=False)) > WRITERS


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_chain(tmp_path):
    if connection.vendor == "postgresql":
        _threads_on_the_test_database()
    else:
        _processes_on_a_database_file(tmp_path)


def _threads_on_the_test_database() -> None:
    start = threading.Barrier(WRITERS + 1, timeout=TIMEOUT_S)
    writing = threading.Event()
    errors: list[BaseException] = []
    verdicts: list[Verdict] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                record(Action.VIEW, practice=1, reason=f"writer {n} event {i}")
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection; leave none open

    def reader() -> None:
        try:
            start.wait()
            while writing.is_set():
                verdicts.append(verify())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    writing.set()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    verifying = threading.Thread(target=reader)
    for thread in [*writers, verifying]:
        thread.start()
    for thread in writers:
        thread.join(TIMEOUT_S)
    writing.clear()
    verifying.join(TIMEOUT_S)

    assert errors == []
    # Verifying while others append must never cry wolf.
    assert verdicts and all(v.intact for v in verdicts), [str(v) for v in verdicts if not v.intact]
    verdict = verify()
    assert verdict.intact, verdict
    assert verdict.count == WRITERS * EACH
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == \
        list(range(1, WRITERS * EACH + 1))
    assert interleaved(list(AuditEvent.objects.values_list("reason", flat=True)))


def _processes_on_a_database_file(tmp: Path) -> None:
    env = base_env(tmp, DJANGO_SETTINGS_MODULE="clinicline.settings")
    migrated = clinicline("migrate", "--no-input", env=env)
    assert migrated.returncode == 0, migrated.stderr
    start_together(WRITERS, lambda n, signals: ["-c", APPENDER, str(n), str(EACH), str(signals)],
                   env, tmp / "signals")

    checked = clinicline("verify-audit", env=env)
    assert checked.returncode == 0, checked.stderr
    assert f"intact: {WRITERS * EACH} events" in checked.stdout
    database = env["DATABASE_URL"].removeprefix("sqlite:///")
    assert os.path.exists(database)
    with sqlite3.connect(database) as db:
        seqs = [seq for (seq,) in db.execute(f"SELECT seq FROM {AuditEvent._meta.db_table} "  # noqa: S608
                                             "ORDER BY seq")]
        reasons = [reason for (reason,) in db.execute(
            f"SELECT reason FROM {AuditEvent._meta.db_table} ORDER BY seq")]  # noqa: S608
    assert seqs == list(range(1, WRITERS * EACH + 1))
    assert interleaved(reasons)
