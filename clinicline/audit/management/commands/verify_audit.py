"""``clinicline verify-audit``: recompute the whole audit chain; exit 1 at the first break.

Meant for cron and monitoring: the exit status is the verdict, the one line says where.
"""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from clinicline.audit.verify import verify


class Command(BaseCommand):
    help = "Verify the hash-chained audit trail; exit 1 naming the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = verify()
        if verdict.intact:
            self.stdout.write(self.style.SUCCESS(str(verdict)))
            return
        self.stderr.write(str(verdict))
        # CommandError would exit 1 too, but prefixes "CommandError:" to the one line
        # monitoring greps for.
        sys.exit(1)
