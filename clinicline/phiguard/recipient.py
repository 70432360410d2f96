"""The recipient's own identifiers, matched exactly: name parts, date of birth in any
format, record number, address and phone, however spaced, cased or accented."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from clinicline.phiguard import dates, patterns
from clinicline.phiguard.text import fold, words

Span = tuple[int, int, str]


@dataclass(frozen=True)
class Recipient:
    """Who the text is for. ``address``: one line, or its parts (street, city, zip…)."""

    name: str = ""
    date_of_birth: dt.date | None = None
    mrn: str = ""
    address: str | Mapping[str, str] = ""
    phone: str = ""


def _loose(value: str) -> re.Pattern[str] | None:
    """The value's letters and digits in order, with any spaces or hyphens between."""
    chars = [c for c in value if c.isalnum()]
    if len(chars) < 4:  # a short number would match by chance
        return None
    return re.compile(r"(?<![A-Za-z0-9])" + r"[\s-]*".join(map(re.escape, chars))
                      + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _name_parts(name: str) -> set[str]:
    # Whole words, hyphenated names as parts too: "Okafor-Smith" is two names, "Al" is not
    # "Alan", and a single letter is no name.
    parts = {w.folded for w in words(name)}
    parts |= {p for w in list(parts) for p in w.split("-")}
    return {p for p in parts if len(p) > 1}


def names(text: str, name: str) -> Iterator[Span]:
    parts = _name_parts(name)
    for word in words(text):
        folded = word.folded[:-2] if word.folded.endswith("'s") else word.folded
        if folded in parts or any(p in parts for p in folded.split("-")):
            yield word.start, word.end, "name"


def birth_dates(text: str, born: dt.date) -> Iterator[Span]:
    for seen in dates.dates(text):
        if (born.month, born.day) in seen.readings and seen.year in (None, born.year):
            yield seen.start, seen.end, "date_of_birth"
    for start, end, year, month, day in dates.compact_dates(text):
        if (year, month, day) == (born.year, born.month, born.day):
            yield start, end, "date_of_birth"


def _address_lines(address: str | Mapping[str, str]) -> list[str]:
    if isinstance(address, str):
        return [part.strip() for part in address.split(",") if part.strip()]
    return [str(v).strip() for v in address.values() if str(v).strip()]


def addresses(text: str, address: str | Mapping[str, str]) -> Iterator[Span]:
    # Folded a character at a time, so offsets stay those of the text.
    folded = "".join(f[0] if (f := fold(c)) else c for c in text)
    for line in _address_lines(address):
        pattern = r"(?<!\w)" + r"[\s,.]+".join(re.escape(w.folded) for w in words(line))
        # A state's two letters alone say little; a street, city or ZIP code says where.
        if len(line) > 2:
            for match in re.finditer(pattern + r"(?!\w)", folded):
                yield match.start(), match.end(), "address"


def phones(text: str, phone: str) -> Iterator[Span]:
    number = patterns.e164(phone)
    national = number[2:] if number.startswith("+1") else number.lstrip("+")
    pattern = _loose(national)
    if pattern is not None:
        for match in pattern.finditer(text):
            yield match.start(), match.end(), "phone"


def identifiers(text: str, recipient: Recipient) -> Iterator[Span]:
    if recipient.name:
        yield from names(text, recipient.name)
    if recipient.date_of_birth is not None:
        yield from birth_dates(text, recipient.date_of_birth)
    if recipient.mrn and (pattern := _loose(recipient.mrn)) is not None:
        yield from ((m.start(), m.end(), "mrn") for m in pattern.finditer(text))
    if recipient.address:
        yield from addresses(text, recipient.address)
    if recipient.phone:
        yield from phones(text, recipient.phone)
