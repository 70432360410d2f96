"""Run the web server and one worker together in the foreground; Ctrl-C stops both.

The children run in sessions of their own, so Ctrl-C (SIGINT to the terminal's process
group) reaches only this command, which asks each to stop gracefully: requests in flight
finish, and the worker completes its step.
"""

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web app (gunicorn) and run a worker, together, until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")

    def handle(self, *args: Any, bind: str, workers: int, **options: Any) -> None:
        exe = sys.executable
        procs = [
            subprocess.Popen([exe, "-m", "gunicorn", "clinicline.wsgi", "--bind", bind,  # noqa: S603
                              "--workers", str(workers), "--access-logfile", "-",
                              "--graceful-timeout", "10"], start_new_session=True),
            subprocess.Popen([exe, "-m", "clinicline", "worker"],  # noqa: S603
                             start_new_session=True),
        ]

        def stop(*_: object) -> None:
            for p in procs:
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        finally:
            stop()
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        codes = [p.returncode for p in procs]
        if any(c not in (0, -signal.SIGTERM, -signal.SIGINT) for c in codes):
            raise SystemExit(f"stopped: web exited {codes[0]}, worker exited {codes[1]}")
