"""Normal forms for the values we look up by blind index."""

import datetime as dt
import functools
import re
import unicodedata

import phonenumbers

DEFAULT_REGION = "US"


class InvalidPhone(ValueError):
    pass


@functools.lru_cache(maxsize=256)
def parsed(e164: str) -> phonenumbers.PhoneNumber:
    """A stored number, parsed; the few last asked are kept (a sending decision asks for
    the same number's validity and its time zones). Raises NumberParseException. Callers
    must not change what it returns."""
    return phonenumbers.parse(e164, None)


@functools.lru_cache(maxsize=256)
def number_type(e164: str) -> int:
    """The stored number's type (``PhoneNumberType``; UNKNOWN exactly when it is not a valid
    number), kept as ``parsed`` is: a sending decision asks it for the number's validity and
    again for its time zones. Raises NumberParseException."""
    return phonenumbers.number_type(parsed(e164))


def phone_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("That is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("That phone number is not valid.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    number = phonenumbers.parse(e164)
    national = number.country_code == phonenumbers.country_code_for_region(DEFAULT_REGION)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if national
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def name_key(given: str, family: str) -> str:
    """Case, accents, punctuation and spacing do not matter: 'José  O'Brien' = 'jose obrien'."""
    text = unicodedata.normalize("NFKD", f"{given} {family}")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text)).strip()


def name_dob_key(given: str, family: str, dob: dt.date) -> str:
    return f"{name_key(given, family)}|{dob.isoformat()}"


def mrn_key(mrn: str) -> str:
    return re.sub(r"[\s-]", "", mrn).upper()


def email_key(email: str) -> str:
    return email.strip().casefold()
