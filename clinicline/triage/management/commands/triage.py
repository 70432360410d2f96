"""``clinicline triage --practice SLUG [--call-type TYPE] [--jsonl]``: triage free text under
the practice's protocol in force.

Without --jsonl, all of stdin is one text and one JSON object is printed. With --jsonl,
each input line is ``{"id": ..., "text": ...}`` and each gets one output line carrying its
id, so a batch can be joined back to its inputs; a malformed line gets an error line (with
its id when it has one, and its line number) and the rest carry on. The exit status is 1
if any line failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicline.practices.models import Practice
from clinicline.triage.engine import decide
from clinicline.triage.service import protocol_for
from clinicline.triage.spec import ProtocolSpec


class Command(BaseCommand):
    help = "Triage text from stdin under a practice's protocol; prints JSON."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", required=True, help="the practice's slug")
        parser.add_argument("--call-type", default=None, help="e.g. clinical, refill")
        parser.add_argument("--jsonl", action="store_true",
                            help='read lines {"id", "text"}; write one line per input')

    def handle(self, *args: Any, practice: str, call_type: str | None, jsonl: bool,
               **options: Any) -> None:
        found = Practice.objects.filter(slug=practice).first()
        if found is None:
            raise CommandError(f"no practice with slug {practice!r}")
        spec = protocol_for(found).spec
        stdin: TextIO = options.get("stdin") or sys.stdin
        if not jsonl:
            self._write(decide(spec, call_type, {}, [stdin.read()]).as_json())
            return
        failed = self._batch(spec, call_type, stdin)
        if failed:
            raise CommandError(f"{failed} line(s) could not be triaged")

    def _batch(self, spec: ProtocolSpec, call_type: str | None, lines: Iterable[str]) -> int:
        failed = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            item, error = _parse_line(line)
            if error is not None:
                failed += 1
                self._write({"id": item.get("id"), "line": number, "error": error})
                continue
            self._write({"id": item["id"],
                         **decide(spec, call_type, {}, [item["text"]]).as_json()})
        return failed

    def _write(self, obj: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(obj, ensure_ascii=False))
        self.stdout.flush()  # a caller reading a pipe sees each answer as it is made


def _parse_line(line: str) -> tuple[dict[str, Any], str | None]:
    """The line's object, or what is wrong with it (never the text itself: it may be PHI)."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(item, dict):
        return {}, 'each line must be an object {"id": ..., "text": ...}'
    if "id" not in item or not isinstance(item["id"], str | int) or isinstance(item["id"],
                                                                              bool):
        return {"id": None}, '"id" must be a string or a number'
    if not isinstance(item.get("text"), str):
        return item, '"text" must be a string'
    return item, None
