"""The worker: its jobs, listed in one place, its lanes, and the one way every job claims."""

import ast
import threading
import time
from pathlib import Path
from unittest import mock

import pytest

import clinicline
from clinicline.jobs import JOBS
from clinicline.worker import SLOW, Job, Worker
from tests.support_proc import TIMEOUT_S

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


def test_every_job_is_listed_once_by_name():
    names = [job.name for job in JOBS]
    assert len(names) == len(set(names))
    assert {"outbox", "outbox-stuck", "texts", "status-callbacks", "recordings",
            "transcribe", "inbox-notify", "expired-sessions"} <= set(names)


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
