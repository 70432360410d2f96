"""A PostgreSQL server of a test's own: initdb into a temporary directory, run as an
unprivileged user (PostgreSQL refuses root), on a free port; never the server CI provides.
Started, stopped and restarted at will, for tests of what an outage or a killed worker
does."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unprivileged() -> dict[str, object]:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


class Server:
    """One PostgreSQL cluster in a directory of its own, started and stopped at will."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir, self.data, self.port = bindir, root / "pgdata", port
        self.log = root / "postgres.log"
        self.process: subprocess.Popen | None = None
        run_as = unprivileged()
        if run_as:
            os.chown(root, *_ids())
        subprocess.run([bindir / "initdb", "-D", self.data, "-U", "clinicline", "--auth=trust",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True,
                       timeout=120, **run_as)  # type: ignore[call-overload]

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.bindir / "postgres", "-D", self.data, "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data}",
                 "-c", "fsync=off", "-c", "max_connections=50"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **unprivileged())  # type: ignore[call-overload]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.OperationalError):
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            time.sleep(0.1)
        raise AssertionError(f"PostgreSQL did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: connections cut
            self.process.wait(timeout=30)
        self.process = None

    def url(self, name: str = "clinicline") -> str:
        return f"postgresql://clinicline@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str = "clinicline") -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def clinicline_env(root: Path, database_url: str) -> dict[str, str]:
    """What a ``clinicline`` process on such a server is given: nothing of the caller's."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
            "HOME": str(root), "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "clinicline.settings",
            "CLINICLINE_DATA_DIR": str(root / "data"), "DATABASE_URL": database_url,
            "CLINICLINE_LOG_LEVEL": "WARNING"}


def _ids() -> tuple[int, int]:
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid
