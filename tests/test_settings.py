"""Settings are secure by default: production refuses to start with an insecure or
incomplete configuration, and says what to set. Each case runs the real `clinicline`
command in a subprocess with an environment of its own."""

from __future__ import annotations

import json
import stat

import pytest

from clinicline.env import ConfigError
from clinicline.vault.keyring import LocalKEK
from tests.support_proc import (
    base_env,
    clinicline,
    new_master_key,
    new_secret_key,
    production_env,
)

REFUSED = "clinicline: clinicline refuses to start in production with insecure settings:"
SECRET_KEY_PROBLEM = "SECRET_KEY (or SECRET_KEY_FILE) must be set, at least 50 characters"
MASTER_KEY_PROBLEM = "CLINICLINE_MASTER_KEY (or CLINICLINE_MASTER_KEY_FILE) must be set"
DEBUG_PROBLEM = "CLINICLINE_DEBUG must be off"
COOKIE_PROBLEM = "SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE must stay on"
HOSTS_PROBLEM = "ALLOWED_HOSTS must name the host names this server answers to"
SITE_URL_PROBLEM = "CLINICLINE_SITE_URL must be the https:// address staff use"
ALL_PROBLEMS = [SECRET_KEY_PROBLEM, MASTER_KEY_PROBLEM, DEBUG_PROBLEM, COOKIE_PROBLEM,
                HOSTS_PROBLEM]


def check_deploy(env: dict[str, str]):  # noqa: ANN201
    return clinicline("check", "--deploy", "--fail-level", "WARNING", env=env)


def assert_refused(result, problem: str) -> None:  # noqa: ANN001
    """Exit non-zero with one clear message, naming this problem and no other."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(REFUSED), result.stderr
    assert problem in result.stderr
    for other in ALL_PROBLEMS:
        if other != problem:
            assert other not in result.stderr, result.stderr


# --- complete production settings -----------------------------------------------------

def test_complete_production_settings_pass_the_deploy_check(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr
    # Production never writes development keys.
    assert not (tmp_path / "data" / "secret_key").exists()
    assert not (tmp_path / "data" / "master.key").exists()


def test_the_deploy_check_is_not_blind(tmp_path):
    """The clean run above means something: the same check flags a weakened setting."""
    result = check_deploy(production_env(tmp_path, SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_with_nothing_set_lists_every_problem(tmp_path):
    env = base_env(tmp_path, CLINICLINE_PRODUCTION="1")
    result = check_deploy(env)
    assert result.returncode != 0
    assert result.stderr.startswith(REFUSED)
    for problem in (SECRET_KEY_PROBLEM, MASTER_KEY_PROBLEM, HOSTS_PROBLEM):
        assert problem in result.stderr


# --- each insecure setting, alone, is refused -------------------------------------------

@pytest.mark.parametrize(("change", "problem"), [
    ({"SECRET_KEY": None}, SECRET_KEY_PROBLEM),
    ({"SECRET_KEY": "k" * 49}, SECRET_KEY_PROBLEM),
    ({"SECRET_KEY": ""}, SECRET_KEY_PROBLEM),
    ({"CLINICLINE_MASTER_KEY": None}, MASTER_KEY_PROBLEM),
    ({"CLINICLINE_DEBUG": "1"}, DEBUG_PROBLEM),
    ({"CLINICLINE_DEBUG": "true"}, DEBUG_PROBLEM),
    ({"SESSION_COOKIE_SECURE": "0"}, COOKIE_PROBLEM),
    ({"CSRF_COOKIE_SECURE": "off"}, COOKIE_PROBLEM),
    ({"ALLOWED_HOSTS": None}, HOSTS_PROBLEM),
    ({"ALLOWED_HOSTS": ""}, HOSTS_PROBLEM),
    ({"CLINICLINE_SITE_URL": None}, SITE_URL_PROBLEM),
    ({"CLINICLINE_SITE_URL": "http://clinic.example.org"}, SITE_URL_PROBLEM),
], ids=["no-secret-key", "short-secret-key", "empty-secret-key", "no-master-key", "debug",
        "debug-true", "session-cookie-insecure", "csrf-cookie-insecure", "no-allowed-hosts",
        "empty-allowed-hosts", "no-site-url", "plain-http-site-url"])
def test_production_refuses_an_insecure_setting(tmp_path, change, problem):
    result = check_deploy(production_env(tmp_path, **change))
    assert_refused(result, problem)


def test_the_refusal_does_not_echo_the_secret(tmp_path):
    short = "s3cr3t-but-too-short-" + "x" * 20
    result = check_deploy(production_env(tmp_path, SECRET_KEY=short))
    assert_refused(result, SECRET_KEY_PROBLEM)
    assert short not in result.stderr + result.stdout


def test_every_command_is_refused_not_only_check(tmp_path):
    result = clinicline("migrate", "--no-input", env=production_env(tmp_path, SECRET_KEY=None))
    assert_refused(result, SECRET_KEY_PROBLEM)
    assert not (tmp_path / "clinicline.sqlite3").exists()


def test_a_boolean_that_is_not_one_is_an_error(tmp_path):
    result = check_deploy(production_env(tmp_path, CLINICLINE_PRODUCTION="maybe"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "CLINICLINE_PRODUCTION must be one of 1/0/true/false/yes/no, not 'maybe'" \
        in result.stderr


# --- secrets from files (container secrets) ---------------------------------------------

def test_secret_key_file_and_master_key_file_are_read(tmp_path):
    secret, master = new_secret_key(), new_master_key()
    (tmp_path / "secret_key").write_text(secret + "\n")
    (tmp_path / "master_key").write_text(master + "\n")
    env = production_env(tmp_path, SECRET_KEY=None, CLINICLINE_MASTER_KEY=None,
                         SECRET_KEY_FILE=str(tmp_path / "secret_key"),
                         CLINICLINE_MASTER_KEY_FILE=str(tmp_path / "master_key"))
    result = check_deploy(env)
    assert result.returncode == 0, result.stderr
    shown = clinicline("shell", "-v", "0", "-c", "from django.conf import settings; "
                       "print(settings.SECRET_KEY); print(settings.MASTER_KEYS[0])", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [secret, master]


def test_a_short_secret_in_a_file_is_refused_too(tmp_path):
    (tmp_path / "secret_key").write_text("too-short\n")
    env = production_env(tmp_path, SECRET_KEY=None,
                         SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    assert_refused(check_deploy(env), SECRET_KEY_PROBLEM)


@pytest.mark.parametrize("name", ["SECRET_KEY", "CLINICLINE_MASTER_KEY"])
def test_a_missing_secret_file_is_a_clear_error(tmp_path, name):
    env = production_env(tmp_path, **{name: None, f"{name}_FILE": str(tmp_path / "nope")})
    result = check_deploy(env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"clinicline: {name}_FILE={tmp_path / 'nope'} cannot be read" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "CLINICLINE_MASTER_KEY",
                                  "CLINICLINE_PREVIOUS_MASTER_KEYS", "EMAIL_HOST_PASSWORD"])
@pytest.mark.parametrize("production", [True, False], ids=["production", "development"])
def test_setting_both_a_secret_and_its_file_is_an_error(tmp_path, name, production):
    value = new_master_key() if "MASTER" in name else new_secret_key()
    (tmp_path / "secret").write_text(value)
    both = {name: value, f"{name}_FILE": str(tmp_path / "secret")}
    env = production_env(tmp_path, **both) if production else base_env(tmp_path, **both)
    result = check_deploy(env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"clinicline: set {name} or {name}_FILE, not both" in result.stderr
    assert value not in result.stderr


# --- the master key's form --------------------------------------------------------------

def test_a_master_key_must_be_base64():
    with pytest.raises(ConfigError, match="must be base64"):
        LocalKEK.from_b64("this is not base64!")


def test_a_master_key_must_be_32_bytes():
    with pytest.raises(ConfigError, match=r"must be 32 bytes.*this one is 16\b"):
        LocalKEK.from_b64(new_master_key(16))
    assert len(LocalKEK.from_b64(new_master_key()).kid) == 16


def assert_bad_master_key(result) -> None:  # noqa: ANN001
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("clinicline: ")
    assert "master key" in result.stderr.lower()
    assert "32 bytes" in result.stderr or "base64" in result.stderr


@pytest.mark.parametrize("change", [
    {"CLINICLINE_MASTER_KEY": "this is not base64!"},
    {"CLINICLINE_MASTER_KEY": new_master_key(16)},
    {"CLINICLINE_PREVIOUS_MASTER_KEYS": new_master_key(24)},
    {"CLINICLINE_PREVIOUS_MASTER_KEYS": f"{new_master_key()},{new_master_key(31)}"},
], ids=["not-base64", "16-bytes", "bad-previous-key", "second-previous-key-bad"])
def test_production_refuses_a_malformed_master_key_at_startup(tmp_path, change):
    """Before serving anything, not at the first request that needs a key."""
    assert_bad_master_key(check_deploy(production_env(tmp_path, **change)))


def test_development_refuses_a_malformed_master_key_at_startup(tmp_path):
    env = base_env(tmp_path, CLINICLINE_MASTER_KEY=new_master_key(16))
    assert_bad_master_key(clinicline("migrate", "--no-input", env=env))
    assert not (tmp_path / "clinicline.sqlite3").exists()


def test_a_malformed_key_is_not_quoted_in_the_error(tmp_path):
    bad = new_master_key(20)
    result = check_deploy(production_env(tmp_path, CLINICLINE_MASTER_KEY=bad))
    assert_bad_master_key(result)
    assert bad not in result.stderr


# --- development: keys are generated, privately, with a warning -----------------------

def test_development_generates_private_keys_with_a_warning(tmp_path):
    data = tmp_path / "data"
    assert not data.exists()
    env = base_env(tmp_path)
    first = clinicline("check", env=env)
    assert first.returncode == 0, first.stderr
    for name, what in (("secret_key", "SECRET_KEY"), ("master.key", "master key")):
        path = data / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert f"clinicline: WARNING generated a development {what} in {path}" in first.stderr
    assert len((data / "secret_key").read_text().strip()) >= 50
    LocalKEK.from_b64((data / "master.key").read_text().strip())  # a valid master key

    # The next start reuses them, silently.
    keys = {p.name: p.read_text() for p in data.iterdir()}
    second = clinicline("check", env=env)
    assert second.returncode == 0
    assert "WARNING" not in second.stderr
    assert {p.name: p.read_text() for p in data.iterdir()} == keys


def test_development_uses_keys_from_the_environment_when_given(tmp_path):
    env = base_env(tmp_path, SECRET_KEY=new_secret_key(), CLINICLINE_MASTER_KEY=new_master_key())
    result = clinicline("check", env=env)
    assert result.returncode == 0
    assert "WARNING" not in result.stderr
    assert not (tmp_path / "data" / "secret_key").exists()
    assert not (tmp_path / "data" / "master.key").exists()


def database_options(env: dict[str, str]) -> dict:
    shown = clinicline("shell", "-v", "0", "-c", "import json; from django.conf import "
                       "settings; print(json.dumps(settings.DATABASES['default']['OPTIONS']))",
                       env=env)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_database_timeouts_default_under_twilios_15_seconds(tmp_path):
    """A database that hangs instead of refusing must not hold a webhook past Twilio's
    budget: the connect and statement timeouts end it first (and it answers 503)."""
    postgres = database_options(base_env(tmp_path, DATABASE_URL="postgres://u@db.invalid/c"))
    assert postgres["connect_timeout"] == 5
    assert postgres["options"] == "-c statement_timeout=10000"
    sqlite = database_options(base_env(tmp_path))
    assert sqlite["timeout"] == 10
    assert "PRAGMA cache_size=-65536;" in sqlite["init_command"]


def test_database_timeouts_come_from_the_environment(tmp_path):
    postgres = database_options(base_env(
        tmp_path, DATABASE_URL="postgres://u@db.invalid/c", DATABASE_CONNECT_TIMEOUT_S="3",
        DATABASE_STATEMENT_TIMEOUT_MS="4000"))
    assert (postgres["connect_timeout"], postgres["options"]) == (3, "-c statement_timeout=4000")
    sqlite = database_options(base_env(tmp_path, DATABASE_BUSY_TIMEOUT_S="2"))
    assert sqlite["timeout"] == 2
    refused = clinicline("check", env=base_env(tmp_path, DATABASE_BUSY_TIMEOUT_S="soon"))
    assert refused.returncode != 0 and "DATABASE_BUSY_TIMEOUT_S must be a whole number" in (
        refused.stderr)
