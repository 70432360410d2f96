"""Running the real `clinicline` command, in processes of its own, on an install of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 180  # argon2 hashes for the demo staff, on a busy machine


class Install:
    """A development install in a directory: its own SQLite file, data dir and keys."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "clinicline.sqlite3"

    def env(self) -> dict[str, str]:
        # Nothing inherited that could point elsewhere (DATABASE_URL of a PostgreSQL run,
        # master keys from the shell): its own data dir, its own generated dev keys.
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
                "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
                "CLINICLINE_DATA_DIR": str(self.root / "data"),
                "DATABASE_URL": f"sqlite:///{self.db}"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), env=self.env(), cwd=self.root,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*args), env=self.env(), cwd=self.root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "clinicline", *args]

    def bytes_at_rest(self) -> bytes:
        files = [self.db, self.db.with_name(self.db.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())


def new_demo_install(root: Path) -> Install:
    install = Install(root)
    for command in (["migrate", "--no-input"], ["demo"]):
        done = install.run(*command)
        assert done.returncode == 0, done.stderr
    return install
