"""The worker: its jobs, listed in one place, its lanes, and the one way every job claims."""

import ast
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest

import clinicline
from clinicline.jobs import JOBS
from clinicline.practices.models import Practice
from clinicline.worker import GC_THRESHOLDS, MAX_BACKOFF_S, SLOW, Job, Worker
from tests.support_db import database_down
from tests.support_proc import TIMEOUT_S, base_env
from tests.support_proc import clinicline as run_clinicline

pytestmark = pytest.mark.django_db
SOURCE = Path(clinicline.__file__).parent


def test_a_failing_job_is_reported_and_the_others_still_run():
    ran = []

    def broken() -> int:
        raise RuntimeError("database went away")

    def fine() -> int:
        ran.append(1)
        return 3

    worker = Worker([Job("broken", broken, 60), Job("fine", fine, 60)])
    assert worker.run_due() == 3
    assert worker.failed == ["broken"] and ran == [1]


def test_a_slow_job_never_holds_up_the_fast_lane():
    """A carrier fetch can take its whole timeout; texts and escalations must not wait."""
    release, fast_runs = threading.Event(), []

    def slow() -> int:  # stands for a fetch stuck until its timeout
        release.wait(TIMEOUT_S)
        return 1

    def fast() -> int:
        fast_runs.append(time.monotonic())
        return 1

    worker = Worker([Job("slow", slow, 0.01, lane=SLOW), Job("fast", fast, 0.01)], poll_s=0.01)
    thread = threading.Thread(target=worker.forever)
    with mock.patch("signal.signal"):  # signals belong to the main thread
        thread.start()
        try:
            deadline = time.monotonic() + TIMEOUT_S
            while len(fast_runs) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(fast_runs) >= 5 and not release.is_set()  # ran while slow was stuck
        finally:
            worker.stop()
            release.set()
            thread.join(TIMEOUT_S)
    assert not thread.is_alive()


class Announcing:
    """A listener on which new work is announced ``times`` times; then it stops the worker.
    ``storm``: announced at once on every wait, without end."""

    def __init__(self, worker: Worker, times: int = 0, storm: bool = False) -> None:
        self.worker, self.times, self.storm = worker, times, storm
        self.waits, self.closed, self.interrupted = 0, False, False

    def wait(self, timeout: float) -> bool:
        self.waits += 1
        if self.storm:
            time.sleep(0.001)
            return True
        if self.times:
            self.times -= 1
            return True
        self.worker.stop()
        return False

    def interrupt(self) -> None:
        self.interrupted = True

    def close(self) -> None:
        self.closed = True


def counting(runs: list[str], name: str) -> Callable[[], int]:
    def run() -> int:
        runs.append(name)
        return 0
    return run


def test_new_work_runs_the_woken_jobs_at_once_whatever_the_poll():
    runs: list[str] = []
    jobs = [Job("pages", counting(runs, "pages"), every_s=60, wakes=True),
            Job("sessions", counting(runs, "sessions"), every_s=60)]
    worker = Worker(jobs, poll_s=60)
    listener = Announcing(worker, times=2)
    worker.listener = listener
    worker.loop(jobs, listener)
    # The first pass, then one for each announcement, long before either job's 60 s.
    assert runs == ["pages", "sessions", "pages", "pages"]
    assert listener.interrupted and listener.closed


def test_a_storm_of_announcements_never_starves_the_other_jobs():
    runs: list[str] = []
    jobs = [Job("outbox", counting(runs, "outbox"), every_s=0.25, wakes=True),
            Job("texts", counting(runs, "texts"), every_s=0.05)]
    worker = Worker(jobs, poll_s=60)
    worker.listener = Announcing(worker, storm=True)
    thread = threading.Thread(target=worker.forever)
    with mock.patch("signal.signal"):
        thread.start()
        time.sleep(0.6)
        worker.stop()
        thread.join(TIMEOUT_S)
    assert not thread.is_alive()
    # Each announcement is one pass, in which every due job runs: texts keeps its pace.
    assert runs.count("outbox") >= 50 and runs.count("texts") >= 6, runs


def test_every_job_is_listed_once_by_name():
    names = [job.name for job in JOBS]
    assert len(names) == len(set(names))
    assert {"outbox", "outbox-stuck", "texts", "status-callbacks", "recordings",
            "transcribe", "inbox-notify", "expired-sessions"} <= set(names)
    # What NOTIFY wakes: the fast lane's jobs for pages and texts due now.
    assert {job.name for job in JOBS if job.wakes} == {"pages", "outbox"}
    assert all(job.lane == "fast" for job in JOBS if job.wakes)


def calls_in(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        if isinstance(node, ast.keyword) and node.arg == "skip_locked":
            names.add("skip_locked")
    return names


def test_no_job_claims_its_rows_but_through_claim_due():
    """Row locks with SKIP LOCKED and advisory locks are how a job would claim by hand:
    only ``clinicline.claims`` may (a hand-rolled loop is how five drifted apart)."""
    claimers = {path.relative_to(SOURCE).as_posix() for path in SOURCE.rglob("*.py")
                if "migrations" not in path.parts
                and calls_in(path) & {"skip_locked", "pg_try_advisory_lock"}}
    assert claimers == {"claims.py"}
    sources = "".join(p.read_text() for p in SOURCE.rglob("*.py"))
    assert "advisory_lock" not in sources


# Outside a test transaction: the worker closes and reopens connections between passes.
@pytest.mark.django_db(transaction=True)
def test_the_database_going_away_is_logged_once_and_backed_off_until_it_is_back(caplog):
    """An outage is a state: one line when it starts, one when it ends, and the job waits
    longer between tries instead of a traceback every pass."""
    down = True

    def query() -> int:  # a real query, against a database that refuses when "down"
        with (database_down() if down else contextlib.nullcontext()):
            return Practice.objects.count()

    worker = Worker([Job("outbox", query, every_s=0.001)])
    waits = []
    with caplog.at_level(logging.INFO, logger="clinicline.worker"):
        for _ in range(4):
            worker.run_due([worker.jobs[0]])
            waits.append(worker.jobs[0].next_at - time.monotonic())
            worker.jobs[0].next_at = 0.0
        assert worker.failed == ["outbox"]
        down = False
        worker.run_due()
        worker.run_due()
    assert worker.failed == []
    assert waits == sorted(waits) and waits[0] >= 0.5 and waits[-1] <= MAX_BACKOFF_S
    told = [r.getMessage() for r in caplog.records]
    assert told == ["database unreachable (OperationalError); jobs back off until it is back",
                    "database reachable again; jobs run as usual"]
    assert "Traceback" not in caplog.text


SHOW_GC = ("import gc; from clinicline.phiguard import lexicon; "
           "print(gc.get_threshold(), gc.get_freeze_count() > 1000, "
           "lexicon.surnames.cache_info().currsize)")


@pytest.mark.parametrize("start", [
    "from django.core.management import call_command; call_command('migrate', verbosity=0); "
    "call_command('worker', '--once')",
    "import clinicline.wsgi",
])
def test_the_worker_and_the_web_server_collect_less_once_started(tmp_path, start):
    """Both processes end their start-up with ``collect_less``: what start-up made frozen
    out of the collector's passes, the word lists read, the youngest generation collected
    less often."""
    shown = run_clinicline("shell", "-v", "0", "-c", f"{start}; {SHOW_GC}", env=base_env(tmp_path))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == f"{GC_THRESHOLDS} True 1"
