"""Reading an appointments CSV: the file's text into ``AppointmentRow``s, and every line
that cannot be read into a ``Problem`` with its line number and a plain message.

The file is checked once, here, at its root: its size, its encoding (UTF-8, with or
without the byte-order mark spreadsheet programs write), its CSV shape and its header.
A file that fails those is refused as a whole (``CsvRefused``, a 400 with the message);
a file that passes them is read line by line, and a bad line is a problem of that line.
Times are the practice's local times; they are stored in UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

from clinicline.outreach.appointments import AppointmentRow, Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 20_000
REQUIRED = ("external_id", "provider", "starts_at")
PATIENT = ("mrn", "given_name", "family_name", "date_of_birth")
OPTIONAL = ("location", *PATIENT)
LIMITS = {"external_id": 64, "provider": 200, "location": 100, "mrn": 64, "given_name": 100,
          "family_name": 100}
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d %I:%M %p")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


class CsvRefused(ValueError):
    """The file as a whole cannot be read; the message says why, in plain words."""


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise CsvRefused(f"The file is over {MAX_BYTES // (1024 * 1024)} MB: split it.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRefused("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from None
    if "\x00" in text:
        raise CsvRefused("The file holds a NUL character: it is not a CSV file.")
    return text


def read(data: bytes, tz: zoneinfo.ZoneInfo) -> tuple[list[AppointmentRow], list[Problem]]:
    """The rows and the problems of a CSV file; raises ``CsvRefused`` for the whole."""
    text = decode(data)
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise CsvRefused(f"The file is not valid CSV ({exc}).") from None
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise CsvRefused("The file is empty: the first line names the columns.")
    if len(lines) > MAX_LINES + 1:
        raise CsvRefused(f"The file has over {MAX_LINES} lines: split it.")
    header = [cell.strip().lower() for cell in lines[0]]
    _check_header(header)
    rows: list[AppointmentRow] = []
    problems: list[Problem] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as spreadsheets leave at the end
        found = _row(number, dict(zip(header, (c.strip() for c in cells), strict=False)), tz)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            rows.append(found)
    return rows, problems


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise CsvRefused("The first line must name the columns; missing: "
                         + ", ".join(missing) + ".")
    if "mrn" not in header and not {"given_name", "family_name", "date_of_birth"} <= set(header):
        raise CsvRefused("Name the patient by an mrn column, or by given_name, family_name "
                         "and date_of_birth columns.")
    unknown = [name for name in header if name and name not in (*REQUIRED, *OPTIONAL)]
    if unknown:
        # A reason-for-visit column is refused rather than ignored: it must not be sent.
        raise CsvRefused("Unknown columns: " + ", ".join(unknown[:5])[:200] + ". The columns "
                         "are " + ", ".join((*REQUIRED, *OPTIONAL)) + ".")
    if len(set(header)) != len(header):
        raise CsvRefused("A column is named twice on the first line.")


def _row(line: int, cells: dict[str, str], tz: zoneinfo.ZoneInfo) -> AppointmentRow | Problem:
    for name, limit in LIMITS.items():
        if len(cells.get(name, "")) > limit:
            return Problem(line, f"The {name} is longer than {limit} characters.")
    for name in REQUIRED:
        if not cells.get(name):
            return Problem(line, f"The {name} is empty.")
    starts_at = local_time(cells["starts_at"], tz)
    if isinstance(starts_at, str):
        return Problem(line, starts_at)
    dob = None
    if cells.get("date_of_birth"):
        dob = _date(cells["date_of_birth"])
        if dob is None:
            return Problem(line, "The date of birth is not a date (YYYY-MM-DD).")
    return AppointmentRow(line=line, external_id=cells["external_id"],
                          provider=cells["provider"], starts_at=starts_at,
                          location=cells.get("location", ""), mrn=cells.get("mrn", ""),
                          given_name=cells.get("given_name", ""),
                          family_name=cells.get("family_name", ""), date_of_birth=dob)


def local_time(text: str, tz: zoneinfo.ZoneInfo) -> dt.datetime | str:
    """The practice-local time ``text`` names, in UTC; or what is wrong with it."""
    for form in TIME_FORMATS:
        try:
            naive = dt.datetime.strptime(text, form)  # noqa: DTZ007 (a local time, zoned below)
        except ValueError:
            continue
        if not 2000 <= naive.year <= 2999:  # and far from the ends, where zoning overflows
            return "The year of the time is not a year of appointments."
        local = naive.replace(tzinfo=tz)
        as_utc = local.astimezone(dt.UTC)
        if as_utc.astimezone(tz).replace(tzinfo=None) != naive:
            return "That time does not exist on that day (the clocks go forward)."
        return as_utc
    return "The time is not a date and time (YYYY-MM-DD HH:MM, the practice's local time)."


def _date(text: str) -> dt.date | None:
    for form in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text, form).date()  # noqa: DTZ007 (a calendar day)
        except ValueError:
            continue
        return day if day.year >= 1900 else None
    return None
