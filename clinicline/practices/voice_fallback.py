"""What each practice number answers when the database cannot: a small local file.

During a database outage the voice webhook cannot find the practice, so it reads this
file instead: for each practice number, the practice's name (for the greeting and its
emergency line) and the fallback phone a caller is connected to (the front desk for now).
It holds no patient data and no credential: practice names and practice numbers only.

The file is rewritten whole when a gateway account or a practice's name or front desk
number is saved, and by the worker every few minutes (so a change made on another machine
arrives). Written to a private temporary file and renamed into place: a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from clinicline.practices.models import GatewayAccount

log = logging.getLogger("clinicline.practices.voice_fallback")
FILE_NAME = "voice-fallback.json"


@dataclass(frozen=True)
class Line:
    """A practice number's answer without the database."""

    practice_name: str
    fallback_phone: str


def path() -> Path:
    return Path(settings.DATA_DIR) / FILE_NAME


def current() -> dict[str, dict[str, str]]:
    """Every practice number's entry, from the database."""
    accounts = GatewayAccount.objects.select_related("practice").order_by("phone_number")
    return {a.phone_number: {"practice_name": a.practice.name,
                             "fallback_phone": a.practice.front_desk_number}
            for a in accounts}


def write() -> int:
    """Rewrite the file from the database; returns how many numbers it holds."""
    lines = current()
    target = path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp makes the file 0600; os.replace is atomic within one directory.
    fd, tmp = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(lines, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(lines)


def write_after_commit() -> None:
    """After the change being saved commits (the file says what the database says). A
    file that cannot be written fails nothing: the worker's refresh tries again."""
    transaction.on_commit(write_or_warn)


def write_or_warn() -> None:
    try:
        write()
    except OSError as exc:
        log.warning("voice fallback file not written (%s)", type(exc).__name__)


def refresh() -> int:
    """The worker's job: the file as the database has it now."""
    write()
    return 0  # nothing was due: a refresh handles no item


def line_for(number: str) -> Line | None:
    """The number's answer from the file; None when unknown or the file is unreadable
    (then the caller still hears the emergency line, without a practice's name)."""
    try:
        entry = json.loads(path().read_text()).get(number)
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("voice fallback file unreadable (%s)", type(exc).__name__)
        return None
    if not isinstance(entry, dict):
        return None
    return Line(str(entry.get("practice_name", "")), str(entry.get("fallback_phone", "")))
