"""HIPAA's identifier kinds, found by their shape: emails, URLs, IP addresses, SSNs,
account and record numbers, phone and fax numbers, street addresses and ZIP codes. Dates
are read in dates.py. Each pattern is compiled once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

import phonenumbers

from clinicline.phiguard import lexicon

Span = tuple[int, int, str]

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')]+", re.IGNORECASE)
# A bare domain, "example.org/x": the top-level domains people actually meet.
DOMAIN = re.compile(
    r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|edu|gov|io|info|biz|us|uk|de|fr|nl|be|it|es|ca|au|hu"
    r"|ch|se|no|dk|fi|pl|cz|ru|jp|cn|in|br|mx|co|me|health|care|app|dev)\b(?:/[^\s]*)?",
    re.IGNORECASE)
IP = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"
                r"|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:[0-9a-f:]*\b",
                re.IGNORECASE)
SSN = re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")
# Card, bank and account numbers: 12 to 19 digits, grouped or not.
ACCOUNT = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){11,18}(?![\d-])")
RECORD = re.compile(
    r"\b(?i:mrn|mr#|chart|account|acct|record|member|policy|claim|license|licence|id)"
    r"\s*(?i:#|no\.?|number|id)?\s*:?\s*[A-Za-z0-9-]*\d{3,}[A-Za-z0-9-]*"
    # Letters and digits mixed, as issued identifiers are (an IBAN, "RFM-100142").
    r"|\b(?=[A-Z-]*\d)(?=[0-9-]*[A-Z])[A-Z0-9]{2,}(?:-?[A-Z0-9]+)*\b(?<=\w{6})"
    r"|\b[A-Z]{2,6}-?\d{5,}\b")
DIGIT_RUN = re.compile(r"\b\d{7,}\b")
# Phone and fax numbers the US matcher does not know: digit groups, 7 to 15 digits in all.
PHONE_SHAPE = re.compile(
    r"(?<![\w+])\+?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,6}){1,5}(?![\w-])")
STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|"
          r"Place|Pl|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl|"
          r"Row|Alley|Loop|Path|Pike|Plaza|Crescent|Close)")
ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?(?: \d{{1,5}})?(?: [A-Z][\w'.-]*){{1,4}} {STREET}\b\.?"
    r"|\b(?i:p\.?\s?o\.?\s?box)\s*\d+"
    r"|\b(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Floor)\.?\s*#?\s*\d+[A-Za-z]?\b"
    r"|(?<![\d-])\d{5}(?:-\d{4})?(?![\d-])"
    # Postal codes where they are named, in any country's form: "ZIP: 394 13", "B0J 2H0".
    r"|\b(?i:zip|zip code|postal code|postcode)(?: is)?:?\s*[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?\b")
# A house number, street words, a number: how most of the world writes a street address
# ("255 Hersnapvej 18", "3536 1659 Hoog St"); a street word must be no English word.
FOREIGN_STREET = re.compile(
    r"\b\d{1,6}(?:[ ,]+\d{1,5})?(?:[ ,]+[^\W\d_][\w'.-]*){1,5}[ ,]+\d{1,5}\b")
# A place and its postal code: "Aalborg 9100", "ÖVERTURINGEN 840 24".
# Never the public emergency lines: "llame al 911" is no place.
PLACE_CODE = re.compile(r"\b[^\W\d_][\w'.-]* (?!(?:911|988)\b)\d{3,5}(?: \d{2,3})?\b")
# Fewer digits than this are no phone number anywhere: the matcher need not run.
PHONE_DIGITS = 7
# Numbers anyone may be told to call: they identify nobody.
PUBLIC_NUMBERS = frozenset({"+18002221222", "+18002738255"})  # Poison Control, the old lifeline


def e164(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def allowed_phone_spans(text: str, allowed: Iterable[str]) -> list[tuple[int, int]]:
    """Where the text gives one of the allowed numbers (E.164), however written."""
    if sum(c.isdigit() for c in text) < PHONE_DIGITS:
        return []
    wanted = {e164(n) for n in allowed if n} | PUBLIC_NUMBERS
    return [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
        text, "US", leniency=phonenumbers.Leniency.POSSIBLE)
        if phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164) in wanted]


def allowed_url_spans(text: str, host: str) -> list[tuple[int, int]]:
    """Links to our own secure-link host: what a page or a reminder is for."""
    if not host:
        return []
    host = host.casefold()
    spans = []
    for match in URL.finditer(text):
        url = match.group()
        netloc = urlsplit(url if "://" in url else "https://" + url).hostname or ""
        if netloc == host:
            spans.append(match.span())
    return spans


def _free(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return not any(start < e and s < end for s, e in taken)


def identifiers(text: str) -> Iterator[Span]:
    """Each identifier found by shape, once: a span one kind took is not read again."""
    taken: list[tuple[int, int]] = []

    def each(pattern: re.Pattern[str], kind: str) -> Iterator[Span]:
        for match in pattern.finditer(text):
            if _free(*match.span(), taken):
                taken.append(match.span())
                yield match.start(), match.end(), kind

    yield from each(EMAIL, "email")
    yield from each(URL, "url")
    yield from each(DOMAIN, "url")
    yield from each(IP, "ip")
    yield from each(SSN, "ssn")
    yield from each(ACCOUNT, "record_number")
    yield from each(RECORD, "record_number")
    phones = (phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.POSSIBLE)
              if sum(c.isdigit() for c in text) >= PHONE_DIGITS else ())
    for number in phones:
        if _free(number.start, number.end, taken):
            taken.append((number.start, number.end))
            yield number.start, number.end, "phone"
    yield from each(DIGIT_RUN, "record_number")
    yield from each(ADDRESS, "address")
    english = lexicon.english()
    for pattern in (FOREIGN_STREET, PLACE_CODE):
        for match in pattern.finditer(text):
            street = re.findall(r"[^\W\d_]+", match.group())
            if any(w.casefold() not in english for w in street) and _free(*match.span(), taken):
                taken.append(match.span())
                yield match.start(), match.end(), "address"
    for match in PHONE_SHAPE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if 7 <= digits <= 15 and _free(*match.span(), taken):
            taken.append(match.span())
            yield match.start(), match.end(), "phone"
