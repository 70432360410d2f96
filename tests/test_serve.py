"""The real serving stack: gunicorn + whitenoise, the worker, and `clinicline serve` that
runs both. Every process is started in its own session, every wait is bounded, and every
process is stopped in a finally."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support_proc import (
    PRODUCTION_HOST,
    TIMEOUT_S,
    alive,
    answers,
    base_env,
    children,
    clinicline,
    free_port,
    get,
    kill_group,
    port_open,
    production_env,
    read,
    start,
    wait_until,
)

STOP_S = 20  # a clean stop is quick; gunicorn's graceful timeout in `serve` is 10s


@dataclasses.dataclass
class Site:
    port: int
    proc: subprocess.Popen
    log: Path

    def get(self, path: str, headers: dict[str, str] | None = None):  # noqa: ANN201
        return get(f"http://127.0.0.1:{self.port}{path}", headers=headers)


def gunicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "clinicline.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--access-logfile", "-", "--graceful-timeout", "5"]


def migrated(tmp: Path, env: dict[str, str]) -> dict[str, str]:
    result = clinicline("migrate", "--no-input", env=env)
    assert result.returncode == 0, result.stderr
    return env


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    """Ask a process to stop and wait (bounded) for it."""
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=STOP_S)


def run_site(tmp: Path, env: dict[str, str], ready: dict[str, str] | None = None):  # noqa: ANN201
    port, log = free_port(), tmp / "gunicorn.log"
    proc = start(gunicorn(port), env, log)
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/healthz", headers=ready,
                               timeout=2)[0] == 200,
                   "gunicorn to answer /healthz", proc=proc, log=log)
        yield Site(port, proc, log)
        assert stop(proc) == 0, read(log)
    finally:
        kill_group(proc)


# --- development: what `make run` serves ----------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):  # noqa: ANN201
    tmp = tmp_path_factory.mktemp("dev-site")
    yield from run_site(tmp, migrated(tmp, base_env(tmp)))


def test_gunicorn_serves_the_login_form(site):
    status, headers, body = site.get("/accounts/login/")
    page = body.decode()
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert re.search(r'<form method="post"', page)
    for field in ('name="csrfmiddlewaretoken"', 'name="username"', 'name="password"'):
        assert field in page
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "no-store" in headers["Cache-Control"]
    assert "csrftoken=" in headers["Set-Cookie"]


def test_gunicorn_answers_the_health_check(site):
    status, headers, body = site.get("/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}


def test_whitenoise_serves_static_files(site):
    status, headers, body = site.get("/static/otp_totp/css/qrcode.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert body
    assert "no-store" not in headers.get("Cache-Control", "")  # static may be cached


def test_whitenoise_serves_the_stylesheet_and_script(site):
    status, headers, body = site.get("/static/clinicline/site.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert body
    status, headers, _ = site.get("/static/clinicline/site.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]


def test_the_access_log_records_requests(site):
    site.get("/healthz")
    wait_until(lambda: '"GET /healthz HTTP/1.1" 200' in read(site.log), "the access log",
               timeout=10)


# --- production: behind a TLS proxy, static files collected -----------------------------

PROXIED = {"Host": PRODUCTION_HOST, "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def production_site(tmp_path_factory):  # noqa: ANN201
    tmp = tmp_path_factory.mktemp("production-site")
    env = migrated(tmp, production_env(tmp))
    collected = clinicline("collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    yield from run_site(tmp, env, ready=PROXIED)


def test_production_answers_behind_the_proxy_with_hsts(production_site):
    status, headers, body = production_site.get("/healthz", headers=PROXIED)
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains; preload"


def test_production_redirects_plain_http_to_https(production_site):
    status, headers, _ = production_site.get("/accounts/login/",
                                             headers={"Host": PRODUCTION_HOST})
    assert status == 301
    assert headers["Location"] == f"https://{PRODUCTION_HOST}/accounts/login/"
    # Except the health check: load balancers probe it over plain HTTP.
    status, _, body = production_site.get("/healthz", headers={"Host": PRODUCTION_HOST})
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_production_refuses_an_unknown_host(production_site):
    status, _, _ = production_site.get("/healthz", headers={**PROXIED, "Host": "evil.example"})
    assert status == 400


def test_production_serves_pages_and_hashed_static_files(production_site):
    status, headers, body = production_site.get("/accounts/login/", headers=PROXIED)
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "csrftoken=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    css = re.search(r'href="(/static/clinicline/site\.[0-9a-f]{12}\.css)"', body.decode())
    assert css
    status, headers, _ = production_site.get(css.group(1), headers=PROXIED)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]


def test_production_gunicorn_refuses_to_start_when_insecure(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=None)
    port, log = free_port(), tmp_path / "gunicorn.log"
    proc = start(gunicorn(port), env, log)
    try:
        returncode = proc.wait(timeout=TIMEOUT_S)
    finally:
        kill_group(proc)
    assert returncode != 0
    assert "refuses to start in production" in read(log)
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in read(log)
    assert not port_open(port)


# --- the worker ---------------------------------------------------------------------------

def test_worker_once_runs_due_work_and_exits(tmp_path):
    env = migrated(tmp_path, base_env(tmp_path))
    result = clinicline("worker", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"handled \d+\n", result.stdout)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_stops_cleanly_on_a_signal(tmp_path, sig):
    env = migrated(tmp_path, base_env(tmp_path))
    log = tmp_path / "worker.log"
    proc = start([sys.executable, "-m", "clinicline", "worker", "--poll", "30"], env, log)
    try:
        wait_until(lambda: "worker started" in read(log), "the worker to start", proc=proc,
                   log=log)
        proc.send_signal(sig)
        # A long poll does not delay the stop: the loop waits on the stop event.
        assert proc.wait(timeout=5) == 0, read(log)
    finally:
        kill_group(proc)
    assert "worker stopped" in read(log)
    assert "Traceback" not in read(log)


# --- `clinicline serve`: web and worker together ----------------------------------------------

@pytest.mark.parametrize("to_group", [False, True], ids=["SIGINT-to-serve", "Ctrl-C-to-group"])
def test_serve_starts_web_and_worker_and_stops_both_on_sigint(tmp_path, to_group):
    env = migrated(tmp_path, base_env(tmp_path))
    port, log = free_port(), tmp_path / "serve.log"
    proc = start([sys.executable, "-m", "clinicline", "serve", "--bind", f"127.0.0.1:{port}",
                  "--workers", "1"], env, log)
    try:
        wait_until(lambda: answers(port), "the web server", proc=proc, log=log)
        wait_until(lambda: "worker started" in read(log), "the worker", proc=proc, log=log)
        wait_until(lambda: '"GET /healthz HTTP/1.1" 200' in read(log), "the request to end",
                   proc=proc, log=log)
        started = children(proc.pid)
        assert len(started) == 2, started  # gunicorn's master and the worker
        if to_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=STOP_S) == 0, read(log)
        wait_until(lambda: not any(alive(pid) for pid in started), "both to exit", timeout=5)
    finally:
        kill_group(proc)
    assert not port_open(port)
    output = read(log)
    assert "worker stopped" in output
    assert "Shutting down: Master" in output
    assert "ERROR clinicline" not in output
    if not to_group:
        # serve stops gunicorn with SIGTERM, a graceful stop. (Ctrl-C also reaches
        # gunicorn's own workers as SIGINT, its quick shutdown, which may cut off a
        # request in flight and log that with a traceback.)
        assert "Traceback" not in output
