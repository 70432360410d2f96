"""The operator commands of accounts: worker, login-help, and the lockout's records."""

import subprocess
import sys
import threading
import time
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from clinicline.worker import SLOW, Job, Worker
from tests.support_proc import TIMEOUT_S, clinicline, production_env

pytestmark = pytest.mark.django_db


def test_a_failing_job_is_reported_and_the_others_still_run():
    ran = []

    def broken() -> int:
        raise RuntimeError("database went away")

    def fine() -> int:
        ran.append(1)
        return 3

    worker = Worker({"broken": Job("broken", broken, 60), "fine": Job("fine", fine, 60)})
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

    worker = Worker({"slow": Job("slow", slow, 0.01, lane=SLOW),
                     "fast": Job("fast", fast, 0.01)}, poll_s=0.01)
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


def test_lockout_tables_hold_no_typed_username(client, nurse):
    typed = "correct-horse-typed-in-the-wrong-box"
    client.post(reverse("accounts:login"), {"username": typed, "password": "x"})
    attempt = AccessAttempt.objects.get()
    assert typed not in attempt.username and typed not in attempt.post_data
    # One account's failures still add up under the same keyed value.
    client.post(reverse("accounts:login"), {"username": typed, "password": "y"})
    assert AccessAttempt.objects.get().failures_since_start == 2


def test_login_help_is_refused_in_production(tmp_path):
    result = clinicline("login-help", env=production_env(tmp_path))
    assert result.returncode != 0
    assert "not in production" in result.stderr
    assert not (tmp_path / "data" / "demo_password").exists()


MAKE_KEY = ("import sys; from pathlib import Path; from clinicline.env import dev_secret, "
            "new_secret_key; print(dev_secret(Path(sys.argv[1]), new_secret_key, 'test key'))")


def test_two_first_starts_agree_on_one_development_key(tmp_path):
    path = tmp_path / "data" / "secret_key"
    procs = [subprocess.Popen([sys.executable, "-c", MAKE_KEY, str(path)],  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outputs
    keys = {out.strip() for out, _ in outputs}
    assert keys == {path.read_text().strip()}
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert [f.name for f in path.parent.iterdir()] == ["secret_key"]  # no temporary left
