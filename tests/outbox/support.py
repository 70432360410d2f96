"""Real concurrency for the outbox, the way each database meets it.

PostgreSQL: threads on the test database, each on its own connection (closed at the end),
started together by a barrier. SQLite: the test database is in memory and private to one
connection, so concurrency there is what a one-office install runs: separate processes on
one database file (WAL, IMMEDIATE transactions), started together by a signal file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

from tests.support_proc import TIMEOUT_S, base_env, clinicline, start_together

# Every script: set Django up, say it is ready, wait for "go", do its part, print JSON.
PRELUDE = """
import json, sys, time, pathlib, django
django.setup()
from clinicline.outbox import service
from clinicline.practices.models import Practice
signals, n = pathlib.Path(sys.argv[1]), sys.argv[2]
practice = Practice.objects.get(slug="riverside")
(signals / f"ready-{n}").touch()
while not (signals / "go").exists():
    time.sleep(0.005)
"""

SETUP = """
import sys, django
django.setup()
from clinicline.outbox import service
from clinicline.practices.models import Practice
practice = Practice.objects.create(slug="riverside", name="Riverside Family Medicine",
                                   time_zone="America/New_York", callback_number="+16175550100")
for i in range(int(sys.argv[1])):
    service.enqueue(practice, channel="sms", to=f"+1617555{1000 + i:04d}",
                    body="Riverside Family Medicine: please call us at (617) 555-0100.",
                    purpose="reminder", idempotency_key=f"reminder-{i}")
"""


def on_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(n)`` on ``count`` threads started together; their results, in order."""
    start = threading.Barrier(count, timeout=TIMEOUT_S)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            results[n] = work(n)
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection; leave none open

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert errors == [], errors
    return results


class DatabaseFile:
    """A migrated SQLite database file with the riverside practice, for processes."""

    def __init__(self, tmp: Path, deliveries: int = 0) -> None:
        self.tmp = tmp
        self.env = base_env(tmp, DJANGO_SETTINGS_MODULE="clinicline.settings")
        migrated = clinicline("migrate", "--no-input", env=self.env)
        assert migrated.returncode == 0, migrated.stderr
        made = subprocess.run([sys.executable, "-c", SETUP, str(deliveries)], env=self.env,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        assert made.returncode == 0, made.stderr
        self.path = self.env["DATABASE_URL"].removeprefix("sqlite:///")

    def on_processes(self, count: int, script: str) -> list[Any]:
        """Run PRELUDE + ``script`` in ``count`` processes started together; each prints
        one JSON value, returned in order."""
        outputs = start_together(
            count, lambda n, signals: ["-c", PRELUDE + script, str(signals), str(n)],
            self.env, self.tmp / f"signals-{time.monotonic_ns()}")
        return [json.loads(out.strip().splitlines()[-1]) for out in outputs]
