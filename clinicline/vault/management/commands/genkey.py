from typing import Any

from django.core.management.base import BaseCommand

from clinicline.env import new_master_key


class Command(BaseCommand):
    help = "Print a new random master key (base64, 32 bytes) for CLINICLINE_MASTER_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(new_master_key())
