"""What every check reads: words with their offsets, folded for comparison, and masks that
blank what the caller vouches for without moving any offset."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# A word: letters and digits, joined by an inner hyphen or apostrophe ("x-ray", "O'Brien").
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str
    folded: str


def fold(text: str) -> str:
    """Case and accents do not matter: 'José' is 'jose'."""
    if text.isascii():  # most words: the fast way to the same answer
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("’", "'")


def words(text: str) -> list[Word]:
    return [Word(m.start(), m.end(), m.group(), fold(m.group())) for m in WORD.finditer(text)]


def blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with each span turned to spaces: offsets stay those of the original."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def phrase_spans(text: str, phrases: Iterable[str]) -> Iterator[tuple[int, int]]:
    """Where each phrase occurs as whole words, case-insensitively and however spaced."""
    for phrase in phrases:
        parts = [re.escape(p) for p in phrase.split()]
        if parts:
            pattern = r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"
            for match in re.finditer(pattern, text, re.IGNORECASE):
                yield match.span()
