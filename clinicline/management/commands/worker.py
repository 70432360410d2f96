from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from clinicline.jobs import JOBS
from clinicline.wake import Listener
from clinicline.worker import Worker, collect_less


class Command(BaseCommand):
    help = "Run the background worker (due deliveries, escalations, housekeeping) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--poll", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--once", action="store_true", help="run due work once and exit")

    def handle(self, *args: Any, poll: float, once: bool, **options: Any) -> None:
        collect_less()
        if once:
            worker = Worker(JOBS, poll_s=poll)
            self.stdout.write(f"handled {worker.run_due()}")
            if worker.failed:
                raise CommandError(f"failed: {', '.join(worker.failed)} (see the log)")
        else:
            # Between polls, PostgreSQL wakes the worker when work falls due now.
            listener = Listener() if connection.vendor == "postgresql" else None
            Worker(JOBS, poll_s=poll, listener=listener).forever()
