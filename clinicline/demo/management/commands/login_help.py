from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicline.accounts.models import Membership
from clinicline.demo.seed import SLUG, demo_password, demo_voice_pin, on_call_members


class Command(BaseCommand):
    help = "Print how to log in to the demo practice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="where the site is served (default: "
                                          "CLINICLINE_SITE_URL, else http://127.0.0.1:8000/)")

    def handle(self, *args: Any, url: str | None, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("login-help prints the demo password; not in production")
        url = (url or settings.SITE_URL).rstrip("/") + "/"
        members = Membership.objects.filter(practice__slug=SLUG).select_related("user")
        if not members:
            self.stdout.write(f"clinicline is at {url}")
            return
        lines = [f"\nclinicline is at {url}", "",
                 f"Demo users (password for all: {demo_password()}):"]
        lines += [f"  {m.user.username:<12} {m.get_role_display()}" for m in members]
        lines += ["", "Each logs in with password + a TOTP code; print the current code with",
                  "  .venv/bin/clinicline totp USERNAME", "",
                  f"Voice PIN of the on-call members ({', '.join(on_call_members())}), asked "
                  f"for when a page calls them", f"  in the phone simulator: {demo_voice_pin()}",
                  ""]
        self.stdout.write("\n".join(lines))
