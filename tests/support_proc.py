"""Running the real `clinicline` command and servers as subprocesses, with a controlled
environment: nothing leaks in from the developer's shell or from CI (no DATABASE_URL, no
keys), and every wait is bounded."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

TIMEOUT_S = 90  # generous: argon2, migrations and gunicorn boots on a busy CI machine
PRODUCTION_HOST = "clinic.example.org"


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_master_key(size: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode()


def base_env(tmp: Path, **extra: str | None) -> dict[str, str]:
    """A development environment of its own: temp data dir, temp SQLite, nothing inherited.

    ``extra`` adds variables; a value of None removes one.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(tmp),
        "PYTHONUNBUFFERED": "1",
        "CLINICLINE_DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": f"sqlite:///{tmp / 'clinicline.sqlite3'}",
    }
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def production_env(tmp: Path, **extra: str | None) -> dict[str, str]:
    """Complete, correct production settings; ``extra`` breaks one thing at a time."""
    return base_env(tmp, **{
        "CLINICLINE_PRODUCTION": "1",
        "SECRET_KEY": new_secret_key(),
        "CLINICLINE_MASTER_KEY": new_master_key(),
        "ALLOWED_HOSTS": PRODUCTION_HOST,
        "CLINICLINE_SITE_URL": f"https://{PRODUCTION_HOST}",
        **extra,
    })


def clinicline(*args: str, env: dict[str, str], cwd: Path | None = None,
               timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clinicline", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10):  # noqa: ANN201
    """(status, headers, body) without following redirects; HTTP errors are answers too."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_S,
               proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Poll until ``condition`` holds; fail with the process's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} before {what}:\n{read(log)}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{read(log)}")


def answers(port: int, path: str = "/healthz") -> bool:
    try:
        return get(f"http://127.0.0.1:{port}{path}", timeout=2)[0] == 200
    except OSError:
        return False


def read(log: Path | None) -> str:
    return log.read_text(errors="replace") if log is not None and log.exists() else ""


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a process in its own session (so it and its children can be stopped by id),
    with stdout and stderr going to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill_group(proc: subprocess.Popen) -> None:
    """Cleanup for a finally: block: end the process group we started, then reap."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    else:
        # Children may outlive a leader that exited on its own.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_together(count: int, argv: Callable[[int, Path], list[str]], env: dict[str, str],
                   signals: Path) -> list[str]:
    """Run ``count`` Python processes that each touch ``<signals>/ready-<n>`` when set up
    and then wait for ``<signals>/go``, so their real work overlaps. ``argv(n, signals)``
    gives each one's arguments after the interpreter. Returns their stdout, in order, once
    all have exited 0."""
    signals.mkdir()
    procs = [subprocess.Popen([sys.executable, *argv(n, signals)], env=env,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(count)]
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while len(list(signals.glob("ready-*"))) < count and time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.02)
        (signals / "go").touch()
        outcomes = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=TIMEOUT_S)
    assert [p.returncode for p in procs] == [0] * count, [err for _, err in outcomes]
    return [out for out, _ in outcomes]
