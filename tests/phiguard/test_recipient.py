"""The recipient's own identifiers, matched exactly however they are written; and the
choices a caller makes about dates and typed slots."""

from __future__ import annotations

import datetime as dt

import pytest

from clinicline import phiguard
from clinicline.phiguard import Recipient

WALTER = Recipient(name="Walter Okafor-Smith", date_of_birth=dt.date(1958, 4, 2),
                   mrn="RFM-100142", address="14 Elm Street, Springfield, 01101",
                   phone="(617) 555-0142")


def kinds(text: str, **options) -> list[str]:
    return phiguard.check(text, recipient=WALTER, **options).types


@pytest.mark.parametrize("text", [
    "Born 04/02/1958.", "Born 4/2/58.", "Born 1958-04-02.", "Born April 2, 1958.",
    "Born 2 April 1958.", "Born Apr. 2nd.", "Born 04-02-1958.", "Born 04.02.1958.",
    "Born 04021958.", "Born 19580402.", "Born 2nd of April.",
    "Nació el 2 de abril de 1958.", "Nacido 2 abr 1958.", "el 2 de abril",
])
def test_the_birth_date_in_any_format(text):
    assert "date_of_birth" in kinds(text)


def test_another_date_is_a_date_and_not_the_birth_date():
    assert kinds("Seen 05/03/1961.") == ["date"]


@pytest.mark.parametrize("text,kind", [
    ("Dear Smith family", "name"), ("WALTER, call us", "name"), ("okafor-smith", "name"),
    ("Ref RFM100142", "mrn"), ("ref rfm 100 142", "mrn"),
    ("Mail to 14 elm street", "address"), ("Still in Springfield?", "address"),
    ("ZIP 01101", "address"), ("Your cell 617 555 0142", "phone"),
    ("Your cell 6175550142", "phone"), ("Your cell +1-617-555-0142", "phone"),
])
def test_name_parts_record_number_address_and_phone(text, kind):
    assert kind in kinds(text)


def test_short_parts_and_partial_words_are_not_the_recipient():
    al = Recipient(name="Al Li", mrn="12")
    assert phiguard.check("Alan and Lisa, ref 12", recipient=al).types == ["person_name"]


def test_a_date_without_a_year_passes_only_when_allowed_and_never_the_birthday():
    reminder = "Your appointment is on Thu Dec 10 at 9:30 AM."
    assert kinds(reminder) == ["date"]
    assert kinds(reminder, allow_dates=True) == []
    assert kinds("Your appointment is on Dec 10, 2026.", allow_dates=True) == ["date"]
    assert kinds("Your appointment is on Thu Apr 2.", allow_dates=True) == ["date_of_birth"]


def test_a_date_in_spanish_is_read_as_a_date_as_the_practices_words_write_it():
    """The Spanish reminder's time ("mié 2 dic a las 2:30 de la tarde") is a date without a
    year: allowed where dates are, and never read as a street address."""
    reminder = "Cita mié 2 dic a las 2:30 de la tarde. Responda C para confirmar."
    assert kinds(reminder) == ["date"]
    assert kinds(reminder, allow_dates=True) == []
    assert kinds("Cita el 10 de diciembre de 2026.", allow_dates=True) == ["date"]
    assert kinds("Cita jue 2 abr a las 9:00.", allow_dates=True) == ["date_of_birth"]
    assert kinds("Started 2 weeks ago 10 mg.") == []  # "ago" is not agosto


def test_a_typed_slot_may_carry_a_date_but_never_the_recipients_identifiers():
    template = "Your appointment is on {slot}. Reply C to confirm."
    for slot, expected in (("12/10/2026 at 9:30", []), ("04/02/1958", ["date_of_birth"])):
        text = template.format(slot=slot)
        start = text.index(slot)
        assert kinds(text, allowed_spans=[(start, start + len(slot))]) == expected


def test_the_practices_numbers_and_public_crisis_lines_pass_others_do_not():
    text = "Call us at 617-555-0100, Poison Control at 1-800-222-1222, or 988."
    assert phiguard.check(text, allowed_numbers=["+16175550100"]).allowed
    assert phiguard.check(text).types == ["phone"]


def test_only_our_secure_link_host_passes():
    assert phiguard.check("Open https://clinic.example.org/p/x", link_host="clinic.example.org"
                          ).allowed
    assert phiguard.check("Open https://clinic.example.org.evil.com/p/x",
                          link_host="clinic.example.org").types == ["url"]


def test_words_that_are_also_names_need_a_cue():
    assert phiguard.check("Will you come in? May we call? Hope to see you.").allowed
    assert phiguard.check("Please ask for Will.").types == ["person_name"]
    assert phiguard.check("Mrs. May is expected.").types == ["person_name"]
