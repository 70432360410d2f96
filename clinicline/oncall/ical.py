"""On-call shifts in and out of iCalendar (.ics).

Import: each event of an uploaded calendar is one member's shift, found by the event's
SUMMARY (the member's full name or username) or an ATTENDEE's email (the member's email),
ignoring case. Recurring events are expanded over the import window. The shifts become
``add`` overrides at the level the importer picks; a schedule kept in another calendar is a
schedule with no rotations and its events imported. A file that cannot be read is refused
whole, with the line and the field at fault (``IcsError``).

Export: member names and times only, never anything about a patient; the feed is read
without a login (``oncall.feeds``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import icalendar
import recurring_ical_events

from clinicline.accounts.models import User
from clinicline.oncall.schedules import Shift
from clinicline.practices.models import Practice

MAX_BYTES = 1_000_000
MAX_SHIFTS = 2_000
LEVELS = {1: "primary", 2: "secondary"}


class IcsError(ValueError):
    """The file is refused; the message says where (a line, an event, a field) and why."""


@dataclass(frozen=True)
class Imported:
    member: User
    starts_at: dt.datetime
    ends_at: dt.datetime


def display_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def member_finder(practice: Practice) -> Callable[[str], User | None]:
    """Finds a member of ``practice`` by full name, username or email, ignoring case."""
    names: dict[str, User] = {}
    for user in User.objects.filter(memberships__practice=practice):
        for key in (user.get_full_name(), user.get_username(), user.email):
            if key:
                names.setdefault(key.strip().casefold(), user)
    return lambda text: names.get(text.strip().casefold())


# --- reading ---------------------------------------------------------------------------------

def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise IcsError(f"The file is over {MAX_BYTES // 1000} kB; export a shorter window.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise IcsError(f"Line {line}: the file is not UTF-8 text.") from None


def _line_of(text: str, content: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if content and line.strip() == content.strip():
            return number
    return None


def _calendar(text: str) -> icalendar.Calendar:
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise IcsError("Line 1: an .ics file starts with BEGIN:VCALENDAR.")
    try:
        return icalendar.Calendar.from_ical(text)
    except ValueError as error:
        found = re.search(r"'(.*)'", str(error))
        line = _line_of(text, found.group(1)) if found else None
        where = f"Line {line}" if line else "The file"
        raise IcsError(f"{where}: not a valid iCalendar content line.") from None


def _event_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1)
            if line.strip().upper() == "BEGIN:VEVENT"]


def _instant(value: Any, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """An event time as an aware datetime: a date is local midnight, a floating time local."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _candidates(event: Any) -> list[str]:
    attendees = event.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    emails = [str(a).removeprefix("mailto:").removeprefix("MAILTO:") for a in attendees]
    return [str(event.get("SUMMARY", "")), *emails]


def _field_line(lines: list[str], begins: int, name: str) -> int:
    """The line of the event's ``name`` property (the event's own line if not found)."""
    for number in range(begins, len(lines)):
        line = lines[number].upper()
        if line.startswith("END:VEVENT"):
            break
        if line.startswith((f"{name}:", f"{name};")):
            return number + 1
    return begins


def _check_event(event: Any, number: int, begins: int | None, lines: list[str],
                 find: Callable[[str], User | None]) -> User:
    where = f"Line {begins} (event {number})" if begins else f"Event {number}"
    for name, problem in getattr(event, "errors", []):
        line = _field_line(lines, begins, name) if begins else None
        place = f"Line {line} (event {number})" if line else where
        raise IcsError(f"{place}, {name}: {str(problem).rstrip('.')}.")
    for field in ("DTSTART", "UID"):
        if event.get(field) is None:
            raise IcsError(f"{where}: the event has no {field}.")
    if event.get("DTEND") is None and event.get("DURATION") is None:
        raise IcsError(f"{where}: the event has neither DTEND nor DURATION.")
    for text in _candidates(event):
        if member := find(text):
            return member
    summary = str(event.get("SUMMARY", ""))[:80]
    raise IcsError(f"{where}, SUMMARY {summary!r}: no member of the practice has that name, "
                   "username or (as an ATTENDEE) email.")


def _occurrence(event: Any, find: Callable[[str], User | None],
                tz: zoneinfo.ZoneInfo) -> Imported:
    starts = _instant(event["DTSTART"].dt, tz)
    ends = _instant(event["DTEND"].dt, tz) if event.get("DTEND") is not None else (
        starts + event["DURATION"].dt)
    member = next(m for m in map(find, _candidates(event)) if m is not None)
    return Imported(member, starts.astimezone(dt.UTC), ends.astimezone(dt.UTC))


def read_shifts(data: bytes, practice: Practice, tz: zoneinfo.ZoneInfo, start: dt.datetime,
                end: dt.datetime) -> list[Imported]:
    """The shifts of an .ics file in [start, end), each with its member; or ``IcsError``."""
    text = _text(data)
    calendar = _calendar(text)
    find = member_finder(practice)
    lines = _event_lines(text)
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise IcsError("The file holds no events (VEVENT).")
    text_lines = text.splitlines()
    for number, event in enumerate(events):
        begins = lines[number] if number < len(lines) else None
        _check_event(event, number + 1, begins, text_lines, find)
    try:
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except Exception as error:  # the library raises many kinds on a bad RRULE
        raise IcsError(f"A repeating event could not be expanded: {type(error).__name__}.") \
            from None
    found = [_occurrence(event, find, tz) for event in occurrences[:MAX_SHIFTS + 1]]
    if len(found) > MAX_SHIFTS:
        raise IcsError(f"The file has over {MAX_SHIFTS} shifts in the window; import less.")
    for shift in found:
        if shift.ends_at <= shift.starts_at:
            raise IcsError(f"The shift of {display_name(shift.member)} starting "
                           f"{shift.starts_at:%Y-%m-%d %H:%M} UTC ends before it starts.")
    return found


# --- writing ---------------------------------------------------------------------------------

def _uid(name: str, shift: Shift) -> str:
    key = f"{name}|{shift.level}|{shift.member.pk}|{shift.starts_at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@clinicline"


def calendar_bytes(name: str, found: Iterable[Shift], stamp: dt.datetime) -> bytes:
    """An .ics of ``found``: for each shift, who (a name), which level, and when."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//clinicline//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call: {name}")
    for shift in found:
        event = icalendar.Event()
        level = LEVELS.get(shift.level, f"level {shift.level}")
        event.add("uid", _uid(name, shift))
        event.add("dtstamp", stamp.astimezone(dt.UTC))
        event.add("dtstart", shift.starts_at.astimezone(dt.UTC))
        event.add("dtend", shift.ends_at.astimezone(dt.UTC))
        event.add("summary", f"{display_name(shift.member)} on call ({level})")
        calendar.add_component(event)
    return calendar.to_ical()
