"""One check of one text: what the caller allows is blanked (offsets kept), then each
reader looks, and what they find is one list of findings with spans into the text."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from clinicline.phiguard import dates, patterns
from clinicline.phiguard.clinical import clinical_terms
from clinicline.phiguard.names import person_names
from clinicline.phiguard.recipient import Read, Recipient
from clinicline.phiguard.recipient import identifiers as recipient_identifiers
from clinicline.phiguard.text import blank, phrase_spans, words

CLINICAL = frozenset({"condition", "medication", "test", "procedure", "specialty"})
# The recipient's own identifiers: a typed slot may not carry them either.
RECIPIENTS = frozenset({"name", "date_of_birth", "mrn"})
# Public lines anyone may be told to call, by name: they say nothing about the recipient.
PUBLIC_PHRASES = ("Poison Control", "Suicide and Crisis Lifeline", "Suicide & Crisis Lifeline",
                  "medical emergency")


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    start: int
    end: int
    type: str
    category: Literal["identifier", "clinical"]

    def as_json(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "type": self.type,
                "category": self.category}


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.findings

    @property
    def verdict(self) -> Literal["allow", "block"]:
        return "allow" if self.allowed else "block"

    @property
    def types(self) -> list[str]:
        """The kinds found, each once: what a refusal may record (never the text)."""
        return sorted({f.type for f in self.findings})

    def as_json(self) -> dict[str, object]:
        return {"verdict": self.verdict, "findings": [f.as_json() for f in self.findings]}


def _finding(start: int, end: int, kind: str) -> Finding:
    return Finding(start, end, kind, "clinical" if kind in CLINICAL else "identifier")


def _allowed_spans(text: str, allowed_numbers: Iterable[str], link_host: str,
                   practice_name: str, allowed_names: Iterable[str]) -> list[tuple[int, int]]:
    names = [n for n in allowed_names if n.strip()]
    # A provider is written "Dr. Amara Osei", "Dr. Osei" or "Amara": each part is theirs.
    parts = {w.text for n in names for w in words(n) if len(w.text) > 1}
    phrases = [p for p in (practice_name, *names, *parts, *PUBLIC_PHRASES) if p.strip()]
    return [*patterns.allowed_phone_spans(text, allowed_numbers),
            *patterns.allowed_url_spans(text, link_host), *phrase_spans(text, phrases)]


def _dates(text: str) -> list[tuple[int, int, str, bool]]:
    """Each date, and whether it blocks when dates are allowed: a date with a year, or a
    year of the last two centuries alone (a likely birth year). A year of this one alone
    ("in 2017") says no birth date to a template's reader."""
    return [(seen.start, seen.end, "date",
             seen.year is not None and (bool(seen.readings) or seen.year < 2000))
            for seen in dates.dates(text)]


def check(text: str, *, recipient: Recipient | None = None,
          allowed_numbers: Iterable[str] = (), link_host: str = "", practice_name: str = "",
          allowed_names: Iterable[str] = (), allowed_spans: Sequence[tuple[int, int]] = (),
          allow_dates: bool = False, reuse: bool = False) -> Verdict:
    """What ``text`` must not carry to a non-secure channel; allowed when nothing is found.

    ``reuse``: for words rendered from an approved template's typed slots, never free text.
    The look that does not depend on the recipient is kept (``_recipientless``, a bounded
    cache) for the next text word for word the same (the same appointment time and
    provider): where none of the recipient's own identifiers is in the text, the verdict
    is that look's exactly; where one is, the whole look is made again."""
    options = (tuple(allowed_numbers), link_host, practice_name, tuple(allowed_names),
               tuple(allowed_spans), allow_dates)
    if reuse:
        read, alone = _recipientless(text, *options)
    else:
        read, alone = Read(_masked(text, *options[:4])), None
    own = list(recipient_identifiers(read, recipient)) if recipient is not None else []
    if alone is not None and not own:
        return alone
    return _look(text, read.text, own, options[4], allow_dates)


def _masked(text: str, allowed_numbers: tuple[str, ...], link_host: str, practice_name: str,
            allowed_names: tuple[str, ...]) -> str:
    return blank(text, _allowed_spans(text, allowed_numbers, link_host, practice_name,
                                      allowed_names))


@functools.lru_cache(maxsize=4096)
def _recipientless(text: str, allowed_numbers: tuple[str, ...], link_host: str,
                   practice_name: str, allowed_names: tuple[str, ...],
                   allowed_spans: tuple[tuple[int, int], ...],
                   allow_dates: bool) -> tuple[Read, Verdict]:
    """The masked text (as the recipient's readers read it) and the look without one."""
    masked = _masked(text, allowed_numbers, link_host, practice_name, allowed_names)
    return Read(masked), _look(text, masked, [], allowed_spans, allow_dates)


def _look(text: str, masked: str, own: list[tuple[int, int, str]],
          allowed_spans: Sequence[tuple[int, int]], allow_dates: bool) -> Verdict:
    seen = _dates(masked)
    # A date is read before the shapes, so "04.02.1958" is a date and not a phone number,
    # and an allowed "Tue 08 Dec 18:00" is no street address either.
    found = [(s, e, kind) for s, e, kind, blocks in seen if blocks or not allow_dates]
    dated = [(s, e) for s, e, _, _ in seen]
    found += patterns.identifiers(blank(masked, dated))
    # Names are looked for outside the identifiers already found (an email's "JonPLaursen").
    plain = blank(masked, _spans(found + own) + dated)
    found += [(s, e, "person_name") for s, e in person_names(plain)]
    found += clinical_terms(masked)
    # What is the recipient's is said once, as theirs: not again as "a date" or "a name".
    found = [f for f in found if not _inside(f, _spans(own))]
    findings = sorted({_finding(*f) for f in own + found if f[2] in RECIPIENTS
                       or not _inside(f, allowed_spans)})
    return Verdict(tuple(findings))


def _spans(found: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    return [(start, end) for start, end, _ in found]


def _inside(found: tuple[int, int, str], spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= found[0] and found[1] <= end for start, end in spans)
