"""HIPAA's identifier kinds, found by their shape: emails, URLs, IP addresses, SSNs,
account and record numbers, phone and fax numbers, street addresses and ZIP codes. Dates
are read in dates.py. Each pattern is compiled once."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import phonenumbers

from clinicline.phiguard import lexicon

Span = tuple[int, int, str]
Test = Callable[[re.Match[str]], bool]

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
    # Letters and digits mixed, as issued identifiers are (an IBAN, "RFM-100142"). A hyphen
    # must part the runs after the first: with it optional ("(?:-?[A-Z0-9]+)*", the same
    # words) a long run of digits followed by a lower-case letter took minutes to refuse.
    r"|\b(?=[A-Z-]*\d)(?=[0-9-]*[A-Z])[A-Z0-9]{2,}(?:-[A-Z0-9]+)*\b(?<=\w{6})"
    r"|\b[A-Z]{2,6}-?\d{5,}\b")
DIGIT_RUN = re.compile(r"\b\d{7,}\b")
# Phone and fax numbers the US matcher does not know: digit groups, 7 to 15 digits in all.
PHONE_SHAPE = re.compile(
    r"(?<![\w+])\+?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,6}){1,5}(?!\w|-\d)")
STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|"
          r"Place|Pl|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl|"
          r"Row|Alley|Loop|Path|Pike|Plaza|Crescent|Close)")
ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?(?: \d{{1,5}})?(?: [A-Z][\w'.-]*){{1,4}} {STREET}\b\.?"
    r"|\b(?:\d{1,6} )?(?i:p\.?\s?o\.?\s?box|post\s?box|postboks|postfach|apartado|casilla)"
    r"\s*\d+"
    r"|\b(?:(?i:apt|apartment|suite|unit)|Ste|Flat|Room|Floor)\.?\s*#?\s*\d+[A-Za-z]?\b"
    r"|(?<![\d-])\d{5}(?:-\d{4})?(?![\d-])"
    # Postal codes where they are named, in any country's form: "ZIP: 394 13", "B0J 2H0".
    r"|\b(?i:zip|zip code|postal code|postcode)(?: is)?:?\s*[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?\b")
# Where the street's kind comes first, as in French, Spanish, Italian, Portuguese, Polish,
# with a house number before or after: "846 31 Rue Al Imam Al Bakri", "ul. Słowicza 10".
FIRST = (r"(?i:rue|avenue|av\.|avenida|via|viale|calle|carrer|rua|paseo|camino|chemin"
         r"|boulevard|piazza|plaza|strada|ulica|ul\.|al\.)")
STREET_FIRST = re.compile(
    rf"\b\d{{1,6}}(?:[ ,]+\d{{1,5}})?,? {FIRST}(?: [^\W\d_][\w'.-]*){{1,5}}"
    rf"|(?<!\w){FIRST}(?: [^\W\d_][\w'.-]*){{1,4}},? \d{{1,5}}[A-Za-z]?\b")
# Where it comes last, as in German, Dutch, Nordic and Hungarian, then the house number:
# "Hersnapvej 18", "Kaiserstraße 5", "hegyalja út 98".
LAST = (r"(?i:vej|gade|gatan|gata|veien|vegen|straße|strasse|str\.|gasse|weg|laan|straat"
        r"|steeg|plein| út| utca| tér| u\.)\.? \d")
STREET_LAST = re.compile(
    r"\b(?:\d{1,6}(?:[ ,]+\d{1,5})?[ ,]+)?(?:[^\W\d_][\w'.-]* )?[^\W\d_]+"
    rf"{LAST}\d{{0,4}}[A-Za-z]?\b\.?")
# What a text must hold for a costly pattern to be worth running: its street word.
NEEDLES = {STREET_FIRST: re.compile(FIRST + r"\s"), STREET_LAST: re.compile(LAST)}
# An intersection locates as well as a house number: "the corner of Elm and 5th".
CORNER = re.compile(r"\b(?i:corner of) [\w'.-]+(?: [\w'.-]+){0,3}? (?i:and|&) [\w'.-]+"
                    r"(?: (?i:st|street|ave|avenue|rd|road|courts?|lane|drive|way))?")
# Canadian and British postcodes have shapes nothing else has: "B0J 2H0", "SW1A 1AA".
POSTCODE = re.compile(r"\b[A-Z]\d[A-Z] ?\d[A-Z]\d\b"
                      r"|\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b")
# In a text that gives an address, a line that holds only a number is its postal code
# ("Wrocław\n53-320", "Tujetsch\n7188"): an address's parts stand on lines of their own.
CODE_LINE = re.compile(r"(?m)^[ \t>*•?-]*(\d{3,6}|\d{2,3}[ -]\d{2,4})[ \t]*$")
# A house number, street words, a number: how most of the world writes a street address
# ("255 Hersnapvej 18", "3536 1659 Hoog St"); a street word must be no English word.
FOREIGN_STREET = re.compile(
    r"\b\d{1,6}(?:[ ,]+\d{1,5})?(?:[ ,]+[^\W\d_][\w'.-]*){1,5}[ ,]+\d{1,5}\b")
# A place and its postal code: "Aalborg 9100", "ÖVERTURINGEN 840 24".
# Never the public emergency lines: "llame al 911" is no place.
# A district's letter or a country's may stand between: "København K 1421", "Aalborg NO 9100".
PLACE_CODE = re.compile(
    r"\b[^\W\d_][\w'.-]*(?: [A-Z]{1,2})? (?!(?:911|988)\b)\d{3,5}(?: \d{2,3})?\b")
# Fewer digits than this are no phone number anywhere: the matcher need not run.
PHONE_DIGITS = 7
# Numbers anyone may be told to call: they identify nobody.
PUBLIC_NUMBERS = frozenset({"+18002221222", "+18002738255"})  # Poison Control, the old lifeline


# A North American number already in E.164: parsing it gives it back unchanged.
NANP_E164 = re.compile(r"\+1[2-9][0-9]{9}")


@functools.lru_cache(maxsize=1024)  # the practice's numbers, checked in every text
def e164(number: str) -> str:
    if NANP_E164.fullmatch(number):  # a recipient's number as stored: no parse needed
        return number
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
        if _host_of(match.group()) == host:
            spans.append(match.span())
    return spans


def _host_of(url: str) -> str:
    """The link's host, or "" for one no browser could follow ("http://[": not ours)."""
    try:
        return urlsplit(url if "://" in url else "https://" + url).hostname or ""
    except ValueError:
        return ""


def _free(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return not any(start < e and s < end for s, e in taken)


def _foreign(match: re.Match[str]) -> bool:
    """Is one of the match's words no English word ("Hersnapvej", "Słowicza")? Then the
    shape is a street's, not a sentence's ("14 via email", "the corner of the desk and")."""
    english = lexicon.english()
    return any(w.casefold() not in english for w in re.findall(r"[^\W\d_]+", match.group()))


def _capitals(match: re.Match[str]) -> bool:
    return _foreign(match) or any(w[0].isupper() or w[0].isdigit()
                                  for w in match.group().split()[2:])


def identifiers(text: str) -> Iterator[Span]:
    """Each identifier found by shape, once: a span one kind took is not read again."""
    taken: list[tuple[int, int]] = []

    def each(pattern: re.Pattern[str], kind: str, test: Test | None = None,
             group: int = 0) -> Iterator[Span]:
        for match in pattern.finditer(text):
            if _free(*match.span(group), taken) and (test is None or test(match)):
                taken.append(match.span(group))
                yield match.start(group), match.end(group), kind

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
    addresses = [*each(ADDRESS, "address"), *each(POSTCODE, "address"),
                 *each(CORNER, "address", _capitals)]
    for pattern in (STREET_FIRST, STREET_LAST, FOREIGN_STREET, PLACE_CODE):
        if pattern not in NEEDLES or NEEDLES[pattern].search(text):
            addresses += each(pattern, "address", _foreign)
    if addresses:
        addresses += each(CODE_LINE, "address", group=1)
    yield from addresses
    for match in PHONE_SHAPE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if 7 <= digits <= 15 and _free(*match.span(), taken):
            taken.append(match.span())
            yield match.start(), match.end(), "phone"
