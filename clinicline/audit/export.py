"""The audit trail as CSV, complete before it is sent (and before the export is recorded)."""

from __future__ import annotations

import csv
import io
import tempfile
import zoneinfo
from typing import IO

from django.db.models import QuerySet

from clinicline.audit.models import AuditEvent

HEADER = ("seq", "at_utc", "at_local", "actor_id", "actor", "practice_id", "action",
          "object_type", "object_id", "patient_id", "fields", "ip", "user_agent", "reason",
          "outcome", "prev_hash", "hash")

# A spreadsheet runs a cell that starts with one of these as a formula, and user agents and
# reasons are typed by outsiders; a leading apostrophe makes such a cell plain text (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SPOOL_BYTES = 1024 * 1024


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _row(e: AuditEvent, tz: zoneinfo.ZoneInfo) -> list[object]:
    return [_cell(v) for v in (
        e.seq, e.at.isoformat(), e.at.astimezone(tz).isoformat(), e.actor_id, e.actor_label,
        e.practice_id, e.action, e.object_type, e.object_id, e.patient_id, e.fields, e.ip,
        e.user_agent, e.reason, e.outcome, e.prev_hash, e.hash)]


def csv_file(events: QuerySet[AuditEvent], tz: zoneinfo.ZoneInfo) -> tuple[IO[bytes], int]:
    """The whole CSV, rewound, and how many events it holds.

    It is written in full before anything is sent, so that the export's audit event can
    be recorded after it and be true: an export that failed half-way is never recorded as
    done. It waits in memory up to a megabyte and in a temporary file beyond, so a year of
    events never sits in memory (audit rows hold no PHI).
    """
    produced = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    text = io.TextIOWrapper(produced, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(HEADER)
    count = 0
    for event in events.iterator(chunk_size=2_000):
        writer.writerow(_row(event, tz))
        count += 1
    text.flush()
    text.detach()  # the wrapper would close the file it wraps
    produced.seek(0)
    return produced, count
