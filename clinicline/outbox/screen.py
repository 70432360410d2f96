"""The outbox's last look at what leaves on a non-secure channel.

Content reaching the outbox is PHI-free by construction (approved templates with typed
slots); this screen is the net under that floor. It looks for identifiers a template
should never carry: dates, other people's phone numbers, email addresses, record numbers,
social security numbers, and the patient's own name and record number when the delivery
names its patient. It errs toward refusing: a withheld notification is retried by a person,
a disclosed identifier cannot be taken back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

MONTHS = ("jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|"
          "june|july|august|september|october|november|december")
YEAR = r"(?:18|19|20)\d{2}"
PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(
        rf"\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b|\b{YEAR}-\d{{1,2}}-\d{{1,2}}\b"
        rf"|\b(?:{MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? {YEAR}\b"   # April 2, 1958
        rf"|\b\d{{1,2}}(?:st|nd|rd|th)? (?:{MONTHS})\.?,? {YEAR}\b"   # 2 April 1958
        # A bare year of the last two centuries is most likely a birth year.
        rf"|\b(?:18|19)\d{{2}}\b", re.IGNORECASE),
    "ssn": re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b"),
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "record number": re.compile(
        r"\b[A-Z]{2,6}-?\d{5,}\b|\b\d{7,}\b"
        r"|\b(?i:mrn|mr#|chart|account|acct|record)\s*(?i:#|no\.?|number)?\s*:?\s*[A-Z0-9-]*\d{3,}"),
}


def folded(text: str) -> str:
    """Case and accents do not matter: 'José' is 'jose'."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", folded(text))


def compact(text: str) -> str:
    """Record numbers are written with and without spaces and hyphens."""
    return re.sub(r"[\s-]", "", text).upper()


def identifiers(text: str, *, allowed_numbers: Iterable[str] = (),
                names: Iterable[str] = (), records: Iterable[str] = ()) -> list[str]:
    """The kinds of identifier found in ``text`` (empty when it looks clean).

    ``allowed_numbers`` (E.164) are the practice's own numbers, which messages may carry;
    ``names`` are the patient's name parts and ``records`` its record numbers, which they
    may not.
    """
    found, allowed, rest = [], set(allowed_numbers), text
    for match in phonenumbers.PhoneNumberMatcher(text, "US",
                                                 leniency=phonenumbers.Leniency.POSSIBLE):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if number in allowed:  # the practice's own number: fine, and not a record number
            rest = rest.replace(match.raw_string, " ")
        else:
            found.append("phone number")
    found += [kind for kind, pattern in PATTERNS.items() if pattern.search(rest)]
    # Name parts are matched as whole words: "Okafor-Smith" is two names, "Al" is not "Alan".
    text_words = set(words(text))
    if any(part in text_words for name in names for part in words(name) if len(part) > 1):
        found.append("patient name")
    # Short record numbers would match by chance; those are left to the patterns above.
    if any(len(compact(r)) >= 4 and compact(r) in compact(text) for r in records if r):
        found.append("record number")
    return sorted(set(found))
