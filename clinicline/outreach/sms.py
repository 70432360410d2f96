"""How a text will travel: its encoding (GSM-7 or UCS-2) and how many segments it costs.

A text that fits the GSM-7 alphabet goes as 7-bit characters, 160 to a single segment and
153 to each part of a longer one (the rest carries the header that joins them). One
character outside it, a curly quote or an em dash pasted from a word processor, turns the
whole text into UCS-2: 70 to a segment, 67 per part, so the same words cost two or three
times as much and a healthcare-exempt reminder no longer fits. The editor is told which
characters did it and offered the plain ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# GSM 03.38's basic table (the escape code 0x1B left out: it is not a character).
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# The extension table: each is sent as the escape code and a character, so it counts 2.
EXTENSION = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# What an editor most often pastes by accident, and the GSM-7 character that means the same.
PLAIN = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
         "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-",
         "\u2011": "-", "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
         "\u200b": "", "\u2022": "-", "\u00b4": "'", "`": "'"}


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class Shape:
    """A text as the carrier will send it."""

    encoding: Encoding
    units: int                   # GSM-7 septets, or UCS-2 16-bit code units
    segments: int
    forcing: tuple[str, ...]     # the characters that made it UCS-2, in order, once each

    @property
    def single_limit(self) -> int:
        return GSM_SINGLE if self.encoding is Encoding.GSM7 else UCS2_SINGLE


def is_gsm7(text: str) -> bool:
    return all(c in BASIC or c in EXTENSION for c in text)


def _gsm_units(c: str) -> int:
    return 2 if c in EXTENSION else 1


def _ucs2_units(c: str) -> int:
    return 2 if ord(c) > 0xFFFF else 1  # a surrogate pair (an emoji, say)


def _segments(widths: list[int], single: int, part: int) -> int:
    """Parts of at most ``part`` units each, never splitting a character's units (an
    escaped GSM-7 character or a surrogate pair stays in one part)."""
    if sum(widths) <= single:
        return 1 if widths else 0
    count, used = 1, 0
    for width in widths:
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return count


def measure(text: str) -> Shape:
    if is_gsm7(text):
        widths = [_gsm_units(c) for c in text]
        return Shape(Encoding.GSM7, sum(widths), _segments(widths, GSM_SINGLE, GSM_PART), ())
    widths = [_ucs2_units(c) for c in text]
    forcing = tuple(dict.fromkeys(c for c in text if c not in BASIC and c not in EXTENSION))
    return Shape(Encoding.UCS2, sum(widths), _segments(widths, UCS2_SINGLE, UCS2_PART),
                 forcing)


def plain(text: str) -> str:
    """``text`` with look-alike punctuation replaced by its GSM-7 twin; letters (an accented
    á, say) are left alone: changing them would change the words."""
    return "".join(PLAIN.get(c, c) for c in text)
