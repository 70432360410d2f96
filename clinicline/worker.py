"""The worker: one long-running loop over the due work of every kind.

Domain apps register a ``Job``: a function that does the work that is due now and returns
how many items it handled. Work is state in the database (rows with a due time), so a
worker that dies loses nothing; another picks the rows up. The loop stops cleanly on
SIGTERM/SIGINT between two steps.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

log = logging.getLogger("clinicline.worker")


@dataclass
class Job:
    name: str
    run: Callable[[], int]
    every_s: float
    next_at: float = 0.0


JOBS: dict[str, Job] = {}


def register(name: str, every_s: float) -> Callable[[Callable[[], int]], Callable[[], int]]:
    def decorate(fn: Callable[[], int]) -> Callable[[], int]:
        JOBS[name] = Job(name, fn, every_s)
        return fn

    return decorate


class Worker:
    def __init__(self, jobs: dict[str, Job] | None = None, poll_s: float = 1.0) -> None:
        self.jobs = list((jobs or JOBS).values())
        self.poll_s = poll_s
        self.stopping = threading.Event()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def run_due(self) -> int:
        """Run every job that is due; returns items handled. ``failed`` names failed jobs."""
        self.failed: list[str] = []
        handled = 0
        now = time.monotonic()
        for job in self.jobs:
            if job.next_at > now:
                continue
            close_old_connections()
            try:
                handled += job.run()
            except Exception:  # one failing job must not stop the others
                log.exception("job %s failed", job.name)
                self.failed.append(job.name)
            job.next_at = time.monotonic() + job.every_s
        return handled

    def forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("worker started with jobs: %s", ", ".join(j.name for j in self.jobs))
        while not self.stopping.is_set():
            self.run_due()
            self.stopping.wait(self.poll_s)
        log.info("worker stopped")
