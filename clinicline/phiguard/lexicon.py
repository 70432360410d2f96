"""The word lists the guard ships (built by make_lexicons.py, read once, never downloaded)."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from clinicline.phiguard.text import fold, words

DATA = Path(__file__).resolve().parent / "data"
CATEGORIES = ("condition", "medication", "test", "procedure", "specialty")


def _lines(name: str) -> frozenset[str]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


@cache
def given_names() -> frozenset[str]:
    return _lines("given_names.txt.gz")


@cache
def surnames() -> frozenset[str]:
    return _lines("surnames.txt.gz")


@cache
def english() -> frozenset[str]:
    return _lines("english_words.txt.gz") | spanish()


@cache
def spanish() -> frozenset[str]:
    """Common Spanish words: the practice's Spanish messages are no list of names."""
    with (DATA / "spanish_words.txt").open(encoding="utf-8") as lines:
        return frozenset(w for line in lines if (w := line.strip()) and not w.startswith("#"))


@cache
def clinical() -> dict[str, str]:
    """Each clinical term (its words folded and joined by one space) to its category."""
    terms: dict[str, str] = {}
    category = ""
    for raw in (DATA / "clinical.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1]
            if category not in CATEGORIES:
                raise ValueError(f"clinical.txt: unknown category {category!r}")
            continue
        key = " ".join(w.folded for w in words(fold(line)))
        terms.setdefault(key, category)
    return terms


@cache
def longest_term() -> int:
    return max(key.count(" ") + 1 for key in clinical())


def load() -> None:
    """Every list read now, at a process's start (the guard's first look reads them
    otherwise)."""
    given_names(), surnames(), english(), clinical(), longest_term()
