"""``clinicline oncall who --practice SLUG [--at ISO_TIME]``: who is on call, names only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from clinicline.oncall.ical import display_name
from clinicline.oncall.schedules import on_call, practice_schedules
from clinicline.practices.models import Practice


def parse_at(text: str | None, practice: Practice) -> dt.datetime:
    """An ISO time; without an offset, it is the practice's local time."""
    if text is None:
        return timezone.now()
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO time, e.g. 2026-12-01T22:00") from None
    return at.replace(tzinfo=practice.tz) if at.tzinfo is None else at


class Command(BaseCommand):
    help = "On-call schedules: `oncall who --practice SLUG [--at TIME]` says who is on call."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        who = commands.add_parser("who", help="who is on call, primary first")
        who.add_argument("--practice", required=True, help="the practice's slug")
        who.add_argument("--at", help="an ISO time (default: now); no offset: practice time")

    def handle(self, *args: Any, subcommand: str, practice: str, at: str | None,
               **options: Any) -> None:
        found = Practice.objects.filter(slug=practice).first()
        if found is None:
            raise CommandError(f"no practice {practice!r}")
        when = parse_at(at, found)
        schedules = practice_schedules(found)
        if not schedules:
            self.stdout.write("The practice has no on-call schedule.")
        for schedule in schedules:
            names = [display_name(user) for user in on_call(schedule, when)]
            self.stdout.write(f"{schedule.name}: {', '.join(names) or 'nobody'}")
