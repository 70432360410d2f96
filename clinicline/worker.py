"""The worker: long-running loops over the due work of every kind.

A ``Job`` is a function that does the work that is due now and returns how many items it
handled; ``clinicline.jobs`` lists them all. Work is state in the database (rows with a due
time), so a worker that dies loses nothing; another picks the rows up. The loops stop cleanly on
SIGTERM/SIGINT between two steps.

Jobs run in lanes, one thread each: a job that may take seconds (fetching audio from the
carrier, transcribing it) is in the ``slow`` lane, so it never holds up a text, a page or
an escalation step waiting in the ``fast`` one.

Between polls the fast lane waits on a ``Listener`` where the database has one (PostgreSQL's
LISTEN/NOTIFY, ``clinicline.wake``): work that falls due now wakes it, and the jobs marked
``wakes`` (pages, the outbox) run at once instead of at the next poll. A wake-up is one
ordinary pass over the lane: every other job that is due runs in it too, and a burst of
notifications is taken as one wake-up, so it can never starve the rest.

The database unreachable is a state, not a bug: the worker says so once when it goes away
and once when it is back, and in between each job that finds it gone waits longer before
its next try (up to ``MAX_BACKOFF_S``), instead of a traceback every pass.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError

from clinicline.phiguard import lexicon

log = logging.getLogger("clinicline.worker")


@dataclass
class Job:
    name: str
    run: Callable[[], int]
    every_s: float
    next_at: float = 0.0
    lane: str = "fast"
    wakes: bool = False  # runs at once when new work is announced (fast lane only)


class Listener(Protocol):
    """What the fast lane waits on between polls (``clinicline.wake.Listener``)."""

    def wait(self, timeout: float) -> bool:
        """True when new work was announced before ``timeout``."""
        ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


FAST, SLOW = "fast", "slow"
# The collector's thresholds once a process has started (Python's are 700, 10, 10).
GC_THRESHOLDS = (10_000, 10, 10)
UNREACHABLE = (OperationalError, InterfaceError)
MAX_BACKOFF_S = 10.0


def collect_less() -> None:
    """At the end of a process's start-up (the web server's and the worker's): what it has
    made so far (Django and the apps, the PHI guard's word lists, read now) is kept out of
    the garbage collector's passes (``gc.freeze``), and its youngest generation is
    collected every 10,000 allocations instead of 700. A batch of reminders makes and drops
    thousands of model instances; each full pass of the collector went over everything the
    process keeps, and cost the reminder job (bench/reminders.py) about an eighth of its
    time. What start-up made lives as long as the process anyway."""
    lexicon.load()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Worker:
    def __init__(self, jobs: Iterable[Job], poll_s: float = 0.2,
                 listener: Listener | None = None) -> None:
        self.jobs = list(jobs)
        self.poll_s = poll_s
        self.listener = listener
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.outage_passes = 0  # consecutive jobs that found the database unreachable

    def stop(self, *_: object) -> None:
        self.stopping.set()
        if self.listener is not None:
            self.listener.interrupt()

    def run_due(self, jobs: list[Job] | None = None) -> int:
        """Run every job that is due (of ``jobs``, else all); returns items handled.
        ``failed`` names failed jobs."""
        self.failed: list[str] = []
        handled = 0
        now = time.monotonic()
        for job in self.jobs if jobs is None else jobs:
            if job.next_at > now:
                continue
            close_old_connections()
            wait_s = job.every_s
            try:
                handled += job.run()
            except UNREACHABLE as exc:
                wait_s = max(wait_s, self.database_unreachable(exc))
                self.failed.append(job.name)
            except Exception:  # one failing job must not stop the others
                log.exception("job %s failed", job.name)
                self.failed.append(job.name)
            else:
                self.database_reachable()
            job.next_at = time.monotonic() + wait_s
        return handled

    def database_unreachable(self, exc: Exception) -> float:
        """Says so once per outage (by type only); returns how long the job backs off."""
        with self.lock:
            if not self.outage_passes:
                log.warning("database unreachable (%s); jobs back off until it is back",
                            type(exc).__name__)
            self.outage_passes += 1
            return min(MAX_BACKOFF_S, 0.5 * 2 ** min(self.outage_passes, 8))

    def database_reachable(self) -> None:
        with self.lock:
            if self.outage_passes:
                log.warning("database reachable again; jobs run as usual")
                self.outage_passes = 0

    def forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("worker started with jobs: %s", ", ".join(j.name for j in self.jobs))
        lanes: dict[str, list[Job]] = {}
        for job in self.jobs:
            lanes.setdefault(job.lane, []).append(job)
        others = [threading.Thread(target=self.loop, args=(jobs,), name=f"worker-{lane}",
                                   daemon=True)
                  for lane, jobs in lanes.items() if lane != FAST]
        for thread in others:
            thread.start()
        self.loop(lanes.get(FAST, []), self.listener)
        for thread in others:
            thread.join()
        log.info("worker stopped")

    def loop(self, jobs: list[Job], listener: Listener | None = None) -> None:
        try:
            while not self.stopping.is_set():
                self.run_due(jobs)
                if listener is None:
                    self.stopping.wait(self.poll_s)
                elif listener.wait(self.poll_s):
                    self.woken(jobs)
        finally:
            if listener is not None:
                listener.close()
            connections.close_all()  # this thread's connections

    @staticmethod
    def woken(jobs: list[Job]) -> None:
        """New work was announced: the jobs that take it are due now (even when backing
        off from an outage: a notification came through, so the database is back)."""
        for job in jobs:
            if job.wakes:
                job.next_at = 0.0
