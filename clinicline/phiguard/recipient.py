"""The recipient's own identifiers, matched exactly: name parts, date of birth in any
format, record number, address and phone, however spaced, cased or accented."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from clinicline.phiguard import dates, patterns
from clinicline.phiguard.dates import DateSeen
from clinicline.phiguard.text import Word, fold, words

Span = tuple[int, int, str]


@dataclass(frozen=True)
class Recipient:
    """Who the text is for. ``address``: one line, or its parts (street, city, zip…)."""

    name: str = ""
    date_of_birth: dt.date | None = None
    mrn: str = ""
    address: str | Mapping[str, str] = ""
    phone: str = ""


class Read:
    """What the readers below take from one text, each read once and kept: the guard keeps
    it with its look at rendered words it sees again, for the next recipient's."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def words(self) -> tuple[Word, ...]:
        return tuple(words(self.text))

    @functools.cached_property
    def dates(self) -> tuple[DateSeen, ...]:
        return tuple(dates.dates(self.text))

    @functools.cached_property
    def compact_dates(self) -> tuple[tuple[int, int, int, int, int], ...]:
        return tuple(dates.compact_dates(self.text))

    @functools.cached_property
    def folded(self) -> str:
        # Folded a character at a time, so offsets stay those of the text.
        return "".join(f[0] if (f := fold(c)) else c for c in self.text)

    @functools.cached_property
    def squeezed(self) -> tuple[list[int], str]:
        """The text without spaces and hyphens, lower-cased, and where each of its
        characters is in the text."""
        text = self.text
        kept = [i for i, c in enumerate(text) if not (c.isspace() or c == "-")]
        squeezed = "".join(text[i] for i in kept).lower()
        if len(squeezed) != len(kept):  # a letter whose lower case is longer: read it plainly
            kept, squeezed = list(range(len(text))), text.lower()
        return kept, squeezed


def _loose(read: Read, value: str) -> Iterator[tuple[int, int]]:
    """Where the value's letters and digits appear in the text in order, with any spaces or
    hyphens between, as a whole (no letter or digit either side). Found in the text with
    those gaps squeezed out rather than by a pattern made for each recipient: compiling one
    cost more than the rest of the guard's look."""
    chars = "".join(c for c in value if c.isalnum()).lower()
    if len(chars) < 4:  # a short number would match by chance
        return
    text = read.text
    kept, squeezed = read.squeezed
    at = squeezed.find(chars)
    while at >= 0:
        first, last = kept[at], kept[at + len(chars) - 1]
        if not (_alnum(text, first - 1) or _alnum(text, last + 1)):
            yield first, last + 1
            at = squeezed.find(chars, at + len(chars))
        else:
            at = squeezed.find(chars, at + 1)


def _alnum(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()


def _name_parts(name: str) -> set[str]:
    # Whole words, hyphenated names as parts too: "Okafor-Smith" is two names, "Al" is not
    # "Alan", and a single letter is no name.
    parts = {w.folded for w in words(name)}
    parts |= {p for w in list(parts) for p in w.split("-")}
    return {p for p in parts if len(p) > 1}


def names(read: Read, name: str) -> Iterator[Span]:
    parts = _name_parts(name)
    for word in read.words:
        folded = word.folded[:-2] if word.folded.endswith("'s") else word.folded
        if folded in parts or ("-" in folded and any(p in parts for p in folded.split("-"))):
            yield word.start, word.end, "name"


def birth_dates(read: Read, born: dt.date) -> Iterator[Span]:
    for seen in read.dates:
        if (born.month, born.day) in seen.readings and seen.year in (None, born.year):
            yield seen.start, seen.end, "date_of_birth"
    for start, end, year, month, day in read.compact_dates:
        if (year, month, day) == (born.year, born.month, born.day):
            yield start, end, "date_of_birth"


def _address_lines(address: str | Mapping[str, str]) -> list[str]:
    if isinstance(address, str):
        return [part.strip() for part in address.split(",") if part.strip()]
    return [str(v).strip() for v in address.values() if str(v).strip()]


def addresses(read: Read, address: str | Mapping[str, str]) -> Iterator[Span]:
    folded = read.folded
    for line in _address_lines(address):
        pattern = r"(?<!\w)" + r"[\s,.]+".join(re.escape(w.folded) for w in words(line))
        # A state's two letters alone say little; a street, city or ZIP code says where.
        if len(line) > 2:
            for match in re.finditer(pattern + r"(?!\w)", folded):
                yield match.start(), match.end(), "address"


def phones(read: Read, phone: str) -> Iterator[Span]:
    number = patterns.e164(phone)
    national = number[2:] if number.startswith("+1") else number.lstrip("+")
    for start, end in _loose(read, national):
        yield start, end, "phone"


def identifiers(text: str | Read, recipient: Recipient) -> Iterator[Span]:
    read = text if isinstance(text, Read) else Read(text)
    if recipient.name:
        yield from names(read, recipient.name)
    if recipient.date_of_birth is not None:
        yield from birth_dates(read, recipient.date_of_birth)
    if recipient.mrn:
        yield from ((start, end, "mrn") for start, end in _loose(read, recipient.mrn))
    if recipient.address:
        yield from addresses(read, recipient.address)
    if recipient.phone:
        yield from phones(read, recipient.phone)
