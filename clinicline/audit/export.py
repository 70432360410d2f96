"""The audit trail as CSV, written as it is read so that a year of events never sits in
memory."""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Iterator

from django.db.models import QuerySet

from clinicline.audit.models import AuditEvent

HEADER = ("seq", "at_utc", "at_local", "actor_id", "actor", "practice_id", "action",
          "object_type", "object_id", "patient_id", "fields", "ip", "user_agent", "reason",
          "outcome", "prev_hash", "hash")

# A spreadsheet runs a cell that starts with one of these as a formula, and user agents and
# reasons are typed by outsiders; a leading apostrophe makes such a cell plain text (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer wants a file; this one hands each line back instead."""

    def write(self, line: str) -> str:
        return line


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(events: QuerySet[AuditEvent], tz: zoneinfo.ZoneInfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for e in events.iterator(chunk_size=2_000):
        yield writer.writerow([_cell(v) for v in (
            e.seq, e.at.isoformat(), e.at.astimezone(tz).isoformat(), e.actor_id, e.actor_label,
            e.practice_id, e.action, e.object_type, e.object_id, e.patient_id, e.fields, e.ip,
            e.user_agent, e.reason, e.outcome, e.prev_hash, e.hash)])
