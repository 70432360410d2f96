"""The operator commands: login-help, totp, the ``clinicline`` command's own help, and
the lockout's records."""

import io
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command, get_commands
from django.test import override_settings
from django.urls import reverse

from clinicline.accounts.models import User
from tests.conftest import current_code
from tests.support_proc import base_env, clinicline, production_env

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


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_login_help_prints_the_url_it_is_given(practice):
    """``make run`` passes --url http://$(HOST):$(PORT)/ (make run PORT=9000, say)."""
    assert "clinicline is at http://127.0.0.1:9000/" in run("login_help", "--url",
                                                             "http://127.0.0.1:9000/")


@override_settings(SITE_URL="https://clinic.example.org:8443")
def test_login_help_without_a_url_prints_the_site_url(practice):
    """SITE_URL is CLINICLINE_SITE_URL, else http://127.0.0.1:8000."""
    assert "clinicline is at https://clinic.example.org:8443/" in run("login_help")


def test_totp_names_a_user_who_does_not_exist(nurse):
    with pytest.raises(CommandError, match="^No user named 'nobody'$") as refused:
        run("totp", "nobody")
    assert refused.value.returncode != 0
    User.objects.create_user("newhire")
    with pytest.raises(CommandError, match="^newhire has no confirmed authenticator$"):
        run("totp", "newhire")
    assert run("totp", "nurse").strip() == current_code(nurse)


def test_help_takes_a_hyphenated_command_name(tmp_path):
    result = clinicline("help", "verify-audit", env=base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Unknown command" not in result.stdout + result.stderr
    assert "Verify the hash-chained audit trail" in result.stdout


@pytest.mark.parametrize("args", [(), ("help",), ("--help",)])
def test_the_command_lists_its_own_commands_first_each_with_one_line(tmp_path, args):
    result = clinicline(*args, env=base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    own, django_list = result.stdout.split("Django's commands: ")
    own_names = sorted(n.replace("_", "-") for n, app in get_commands().items()
                       if app.startswith("clinicline"))
    listed = [line.split()[0] for line in own.splitlines() if line.startswith("  ")]
    assert listed == own_names and "verify-audit" in listed
    assert "  verify-audit  Verify the hash-chained audit trail; exit 1 naming the first " \
           "broken event\n" in own
    assert all(len(line) <= 100 for line in own.splitlines())
    assert "migrate" in django_list.split(", ") and "migrate" not in own
