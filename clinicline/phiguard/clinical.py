"""Clinical content: conditions, medications, tests and results, procedures and sensitive
specialties, from the lexicon in data/clinical.txt (whole words, longest phrase first)."""

from __future__ import annotations

from collections.abc import Iterator

from clinicline.phiguard import lexicon
from clinicline.phiguard.text import words


def _variants(folded: str) -> tuple[str, ...]:
    """A word and its singular: "migraines", "allergies", "biopsies"; and without a
    possessive (folded, "’s" is "'s"): "Oncology's office", "the biopsy's results". The
    word as written comes first, so "Crohn's" is still the lexicon's own."""
    if folded.endswith("'s") and len(folded) > 2:
        return folded, *_variants(folded[:-2])
    if folded.endswith("ies"):
        return folded, folded[:-3] + "y"
    if folded.endswith("es"):
        return folded, folded[:-2], folded[:-1]
    if folded.endswith("s"):
        return folded, folded[:-1]
    return (folded,)


def clinical_terms(text: str) -> Iterator[tuple[int, int, str]]:
    terms, longest = lexicon.clinical(), lexicon.longest_term()
    found = words(text)
    i = 0
    while i < len(found):
        for n in range(min(longest, len(found) - i), 0, -1):
            head = " ".join(w.folded for w in found[i:i + n - 1])
            last = found[i + n - 1].folded
            category = next((terms[key] for v in _variants(last)
                             if (key := f"{head} {v}" if head else v) in terms), None)
            if category is not None:
                yield found[i].start, found[i + n - 1].end, category
                i += n
                break
        else:
            i += 1
