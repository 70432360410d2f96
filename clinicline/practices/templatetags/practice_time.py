"""Times as a practice reads them: in its own zone, e.g. "Tue 1 Dec, 02:14 EST".

``base.html`` makes the practice's zone the page's zone, so ``|when`` needs no argument;
it also reads the ISO strings that sealed JSON (a conversation's texts) holds.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import template
from django.utils import dateformat, timezone

register = template.Library()

DAY, OTHER_YEAR = "D j M", "D j M Y"  # Tue 1 Dec; Mon 2 Dec 2024
CLOCK, CLOCK_SECONDS = "H:i T", "H:i:s T"  # 02:14 EST; 02:14:09 EST (the audit trail)


def local_time(at: dt.datetime, tz: zoneinfo.ZoneInfo | None = None,
               seconds: bool = False) -> str:
    """``at`` in ``tz`` (default: the active zone), the year only when it is not this one."""
    if timezone.is_naive(at):
        at = at.replace(tzinfo=dt.UTC)  # stored times are UTC
    local = timezone.localtime(at, tz)
    day = DAY if local.year == timezone.localtime(timezone.now(), tz).year else OTHER_YEAR
    return dateformat.format(local, f"{day}, {CLOCK_SECONDS if seconds else CLOCK}")


@register.filter
def when(value: dt.datetime | str | None, precision: str = "") -> str:
    """``{{ at|when }}``; ``{{ at|when:"seconds" }}`` where seconds matter."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return ""  # not a time: show nothing rather than a stray string
    if not isinstance(value, dt.datetime):
        return ""
    return local_time(value, seconds=precision == "seconds")
