"""``clinicline phi-check``: the PHI guard on standard input.

    echo "Walter, your A1C is back" | clinicline phi-check
    {"verdict": "block", "findings": [{"start": 0, "end": 6, "type": "person_name", ...}]}

Exit 0 means allow, 1 block. With ``--jsonl`` each input line is a JSON object
``{"id", "text", "recipient"?: {name, date_of_birth, mrn, address, phone}, "practice"?: SLUG}``
and each output line that input's verdict with its ``id``; a line that cannot be read gets
``{"id", "line", "error"}`` instead, and the exit is 2 if any line could not be read, else
1 if any text is blocked, else 0. A practice's texts are checked as the outbox checks them
(its numbers, secure-link host, name, providers, staff and queues allowed; dates with no
year allowed).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicline import phiguard
from clinicline.outbox.service import guard_options
from clinicline.practices.models import Practice

RECIPIENT_FIELDS = ("name", "date_of_birth", "mrn", "address", "phone")


class BadLine(ValueError):
    """An input line the guard cannot read; the message says why (never the text)."""


class Command(BaseCommand):
    help = ("Check text for PHI before it goes to a non-secure channel: reads standard "
            "input, prints a JSON verdict; exit 0 allow, 1 block.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jsonl", action="store_true",
                            help="read JSON lines {id, text, recipient?, practice?}")
        parser.add_argument("--practice", default="",
                            help="check as the outbox does for this practice (its slug)")

    def handle(self, *args: Any, jsonl: bool, practice: str, **options: Any) -> None:
        self.practices: dict[str, dict[str, Any]] = {}
        if not jsonl:
            try:
                found = phiguard.check(sys.stdin.read(), **self.options_for(practice))
            except BadLine as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(json.dumps(found.as_json()))
            sys.exit(0 if found.allowed else 1)
        sys.exit(self.lines())

    def lines(self) -> int:
        blocked = unreadable = False
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            row: Any = None
            try:
                row = json.loads(line)
                found = self.verdict(row)
            except (ValueError, BadLine) as exc:  # json.JSONDecodeError is a ValueError
                unreadable = True
                reason = "not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
                ident = row.get("id") if isinstance(row, dict) else None
                self.stdout.write(json.dumps({"id": ident, "line": number, "error": reason}))
                continue
            blocked = blocked or not found.allowed
            self.stdout.write(json.dumps({"id": row.get("id"), **found.as_json()}))
        return 2 if unreadable else 1 if blocked else 0

    def verdict(self, row: Any) -> phiguard.Verdict:
        if not isinstance(row, dict):
            raise BadLine("a line is a JSON object")
        text = row.get("text")
        if not isinstance(text, str):
            raise BadLine('"text" must be a string')
        practice = row.get("practice") or ""
        if not isinstance(practice, str):
            raise BadLine('"practice" must be a practice\'s slug')
        return phiguard.check(text, recipient=recipient(row.get("recipient")),
                              **self.options_for(practice))

    def options_for(self, slug: str) -> dict[str, Any]:
        if not slug:
            return {}
        if slug not in self.practices:
            practice = Practice.objects.filter(slug=slug).first()
            if practice is None:
                raise BadLine(f"no practice {slug!r}")
            self.practices[slug] = guard_options(practice)
        return self.practices[slug]


def recipient(data: Any) -> phiguard.Recipient | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - set(RECIPIENT_FIELDS):
        raise BadLine(f'"recipient" is an object of {", ".join(RECIPIENT_FIELDS)}')
    address = data.get("address") or ""
    if not isinstance(address, str) and not (
            isinstance(address, dict) and all(isinstance(v, str) for v in address.values())):
        raise BadLine('"address" is a string or an object of strings')
    fields = {k: data.get(k) or "" for k in ("name", "mrn", "phone")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise BadLine('"name", "mrn" and "phone" are strings')
    born = data.get("date_of_birth") or None
    try:
        date_of_birth = dt.date.fromisoformat(born) if born is not None else None
    except (TypeError, ValueError):
        raise BadLine('"date_of_birth" is a date, YYYY-MM-DD') from None
    return phiguard.Recipient(date_of_birth=date_of_birth, address=address, **fields)
