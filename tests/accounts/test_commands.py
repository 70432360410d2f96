"""The operator commands of accounts: login-help, and the lockout's records."""

import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.support_proc import clinicline, production_env

pytestmark = pytest.mark.django_db


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
