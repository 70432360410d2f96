"""Dates as people write them, each with what it says (year, month, day), so the guard can
tell a birth date in any format from the recipient's, and a date with a year from one
without."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# English and Spanish, as the practice's own words write them ("Wed Dec 2", "mié 2 dic").
# Not Spanish "ago" (agosto): English "2 weeks ago 10 mg" is no date.
MONTHS = {name: number for number, names in enumerate((
    ("jan", "january", "ene", "enero"), ("feb", "february", "febrero"),
    ("mar", "march", "marzo"), ("apr", "april", "abr", "abril"), ("may", "mayo"),
    ("jun", "june", "junio"), ("jul", "july", "julio"), ("aug", "august", "agosto"),
    ("sep", "sept", "september", "septiembre", "setiembre"), ("oct", "october", "octubre"),
    ("nov", "november", "noviembre"), ("dec", "december", "dic", "diciembre")), start=1)
    for name in names}
MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
YEAR = r"(?P<year>(?:18|19|20)\d\d)"
SEP = r"(?P<sep>[/.-])"

FORMS = [re.compile(form, re.IGNORECASE) for form in (
    rf"\b{YEAR}-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b",                               # 1958-04-02
    rf"\b(?P<a>[0-3]?\d){SEP}(?P<b>[0-3]?\d)(?P=sep)(?P<y>\d{{4}}|\d{{2}})\b",   # 04/02/1958
    rf"\b{MONTH},? {DAY}(?:,? {YEAR})?\b",                                      # April 2, 1958
    rf"\b{DAY} (?:of |de )?{MONTH},?(?: (?:de |del )?{YEAR})?\b",              # 2 April 1958
    rf"\b{MONTH},? {YEAR}\b",                                                   # April 1958
    r"(?<![\d/:.])(?P<a>[01]?\d)/(?P<b>[0-3]?\d)(?![\d/:])",                    # 4/2
)]
# A bare year of the last two centuries is most likely a birth year (2000-2099 are left to
# page codes and the like: a year alone is not an identifier under HIPAA).
BARE_YEAR = re.compile(r"(?<![\d:.,/-])(?:18|19)\d\d(?![\d:/-])")
# A year of this century where a sentence uses it as one: "in 2017", "during 2008", "the
# Civil Rights Act of 2001", "a 2017 film". Written alone ("code 2000") it is a number, and
# before a unit ("a dose of 2000 mg") it is an amount.
YEAR_IN_USE = re.compile(
    r"(?i:\b(?:in|of|during|since|until|till|from|before|after|around|circa|year|a|an|the)\s+)"
    r"(?P<year>20\d\d)(?![\d:/-])(?!\s*(?i:mg|mcg|ml|g|kg|iu|units?|mm|cm|km|m|mi|miles?|ft"
    r"|feet|lbs?|calories|kcal|steps|times|people|patients|dollars|\$|%)\b)")
WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
# A weekday that names one particular day: "last Tuesday", "next Monday", "Tuesday
# morning", "Friday at 3 pm". "Closed on Monday", "Monday to Friday" name no day of anyone's.
ONE_DAY = re.compile(
    rf"(?i:\b(?:last|next|this|coming|past)\s+{WEEKDAY}\b(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|\b{WEEKDAY}\s+(?:morning|afternoon|evening|night|noon)\b"
    rf"|\b{WEEKDAY},?\s+(?:at\s+)?(?:\d{{1,2}}:\d\d|\d{{1,2}}\s*(?:am|pm|a\.m\.|p\.m\.)))")
THIS_CENTURY, A_DAY = re.compile(r"\b20\d\d\b"), re.compile(r"(?i)day\b")
# Digits alone: 04021958, 19580402, 040258 (checked against the recipient's birth date only).
DIGITS = re.compile(r"(?<!\d)\d{6}(?:\d\d)?(?!\d)")
ALWAYS_OPEN = re.compile(r"\b24/7\b")


@dataclass(frozen=True, slots=True)
class DateSeen:
    start: int
    end: int
    year: int | None
    # Both readings of 04/02: month-day (US) and day-month.
    readings: tuple[tuple[int, int], ...]


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value if len(text) == 4 else (1900 + value if value > 30 else 2000 + value)


def _numeric(a: int, b: int) -> tuple[tuple[int, int], ...]:
    return tuple((m, d) for m, d in ((a, b), (b, a)) if 1 <= m <= 12 and 1 <= d <= 31)


def _seen(match: re.Match[str]) -> DateSeen | None:
    found = match.groupdict()
    if found.get("m"):
        readings = _numeric(int(found["m"]), int(found["d"]))[:1]
        year = _year(found["year"])
    elif found.get("a"):
        readings, year = _numeric(int(found["a"]), int(found["b"])), _year(found.get("y"))
    else:
        month = MONTHS[found["month"].casefold()]
        day = int(found["day"]) if found.get("day") else 0
        readings, year = ((month, day),) if day <= 31 else (), _year(found.get("year"))
    if not readings:
        return None
    return DateSeen(match.start(), match.end(), year, readings)


def dates(text: str) -> Iterator[DateSeen]:
    """Each date in the text, once (the longest reading where two forms overlap)."""
    taken: list[tuple[int, int]] = [m.span() for m in ALWAYS_OPEN.finditer(text)]
    for form in FORMS:
        for match in form.finditer(text):
            if not _free(match.span(), taken):
                continue
            seen = _seen(match)
            if seen is not None:
                taken.append(match.span())
                yield seen
    for match in BARE_YEAR.finditer(text):
        if _free(match.span(), taken):
            yield DateSeen(match.start(), match.end(), int(match.group()), ())
    # The two costly readings run only where their year or weekday is.
    for match in YEAR_IN_USE.finditer(text) if THIS_CENTURY.search(text) else ():
        if _free(match.span("year"), taken):
            yield DateSeen(match.start("year"), match.end("year"), int(match["year"]), ())
    for match in ONE_DAY.finditer(text) if A_DAY.search(text) else ():
        if _free(match.span(), taken):
            yield DateSeen(match.start(), match.end(), None, ())


def _free(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return not any(span[0] < end and start < span[1] for start, end in taken)


def compact_dates(text: str) -> Iterator[tuple[int, int, int, int, int]]:
    """Runs of six or eight digits read as a date: (start, end, year, month, day)."""
    for match in DIGITS.finditer(text):
        digits = match.group()
        # mmddyyyy, ddmmyyyy (or their six-digit forms), and yyyymmdd.
        tail, first, second = digits[4:], digits[:2], digits[2:4]
        candidates = [(tail, first, second), (tail, second, first)]
        if len(digits) == 8:
            candidates.append((digits[:4], digits[4:6], digits[6:]))
        for year, month, day in candidates:
            yield match.start(), match.end(), _year(year) or 0, int(month), int(day)
