from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicline.demo import seed as demo
from clinicline.practices.models import Practice


class Command(BaseCommand):
    help = "Create (or complete) the demo practice, Riverside Family Medicine. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true",
                            help="only when no practice exists yet")

    def handle(self, *args: Any, if_empty: bool, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("the demo practice is for development; not in production")
        if if_empty and Practice.objects.exists():
            return
        practice = demo.create_demo()
        self.stdout.write(f"demo practice ready: {practice.name} (/p/{practice.slug}/)")
