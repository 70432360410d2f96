"""Each of the guard's readers, one rule at a time: a text it must block (and where), and
the look-alikes it must let through. The table of a practice's sends is test_table.py."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clinicline import phiguard
from clinicline.phiguard import patterns

PRACTICE = {"allowed_numbers": ["+16175550100"], "link_host": "clinic.example.org",
            "practice_name": "Demo Family Medicine", "allowed_names": ["Dr. Amara Osei"]}

# (text, the words found, their kind)
BLOCKED = [
    # A year of this century where a sentence uses it as one.
    ("We have your records from 2019 on file.", "2019", "date"),
    ("The Civil Rights Act of 2001 protects you.", "2001", "date"),
    ("During 2017, you were seen twice.", "2017", "date"),
    ("It was a 2017 study.", "2017", "date"),
    # A weekday that names one particular day.
    ("We saw you last Tuesday.", "last Tuesday", "date"),
    ("He flew in on Saturday morning.", "Saturday morning", "date"),
    ("see you friday night", "friday night", "date"),
    ("Come in Friday at 3 pm.", "Friday at 3 pm", "date"),
    ("Come in Friday 9:30.", "Friday 9:30", "date"),
    # First name, initial, last name; a name in lower case; a list of names.
    (">Ella H. Snider\n>Otc Markets", "Ella H. Snider", "person_name"),
    ("Grace A. Jones called.", "Grace A. Jones", "person_name"),
    ("emidio p lombardo\nunit 1009", "emidio p lombardo", "person_name"),
    ("please call aksel kristensen back", "aksel kristensen", "person_name"),
    ("have you heard nijito asano speak yet?", "nijito asano", "person_name"),
    ("they had 3: silvana, leonti, chad and caleb.", "leonti", "person_name"),
    ("they had 3: silvana, leonti, chad and caleb.", "chad", "person_name"),
    ("The best of them? Park and Mann were precise.", "Park", "person_name"),
    ("A film starring Key", "Key", "person_name"),
    # Streets the world's way, intersections, postcodes, codes on an address's own line.
    ("Caitlin lives at 846 31 Rue Al Imam Al Bakri, Cite Merzgui", "846 31 Rue", "address"),
    ("Write to ul. Słowicza 10, Wrocław.", "ul. Słowicza 10", "address"),
    ("We mailed it to Kaiserstraße 5 in Berlin.", "Kaiserstraße 5", "address"),
    ("Enter on hegyalja út 98. please.", "hegyalja út 98", "address"),
    ("Meet at the corner of Elm and 5th.", "corner of Elm and 5th", "address"),
    ("Address: 2437 Main St\nMill Village NS B0J 2H0", "B0J 2H0", "address"),
    ("Send it to SW1A 1AA.", "SW1A 1AA", "address"),
    ("1 ul. Słowicza 10 Apt. 360\n   Wrocław\n    53-320", "53-320", "address"),
    ("Via Franscini 71 Suite 838\n   Tujetsch\n    7188", "7188", "address"),
    ("Looking to support them in København K 1421 this year.", "København K 1421",
     "address"),
    ("Bernard\n\n7167 Postbox 53\n Narsarsuaq", "7167 Postbox 53", "address"),
    ("688 rue du centre 320\napt. 169\nbelgium", "apt. 169", "address"),
    # A phone number with a label hyphened on.
    ("Hungary\n(37) 788-063-Office", "(37) 788-063", "phone"),
]

# What must still go out, with the practice's options and every date blocking.
PASSES = [
    "Reply with code 2000 to acknowledge.",
    "The walk is a total of 2000 steps.",
    "Our office will be closed on Monday for the holiday.",
    "Office hours are 8:00 to 17:00, Monday to Friday.",
    "Mondays are busy, so please call early.",
    "Building C Entrance is on the left.",
    "Reply C to confirm, R to reschedule.",
    "Send it via the portal within 3 days.",
    "Please wait in the corner of the room and a nurse will come.",
    "Bring apples, pears and plums to the picnic.",
    "Please take 2 units with food.",
    "Your code:\n4821",
    "Llame al 911 si es una emergencia.",
    "Dr. Amara Osei will see you soon.",
]


def _found(text: str, **options: object) -> set[tuple[str, str]]:
    verdict = phiguard.check(text, **options)  # type: ignore[arg-type]
    return {(text[f.start:f.end], f.type) for f in verdict.findings}


@pytest.mark.parametrize("text,words,kind", BLOCKED)
def test_each_rule_blocks_what_it_is_for(text, words, kind):
    found = _found(text, **PRACTICE)
    assert any(words in span and found_kind == kind for span, found_kind in found), found


@pytest.mark.parametrize("text", PASSES)
def test_look_alikes_go_out(text):
    assert _found(text, **PRACTICE) == set()


def test_a_year_of_this_century_or_a_weekday_passes_where_dates_are_allowed():
    # The outbox allows dates without a year: "in 2026" and "next Monday" say no birth
    # date, a year of the last century alone still does.
    text = "Your visit next Monday morning replaces the one in 2026."
    assert _found(text, **PRACTICE) == {("next Monday morning", "date"), ("2026", "date")}
    assert _found(text, **PRACTICE, allow_dates=True) == set()
    assert _found("We have your file from 1958.", **PRACTICE, allow_dates=True) == {
        ("1958", "date")}


def test_spanish_words_are_no_names_in_lower_case():
    # Many Spanish words are Census surnames ("roja", "derecho"): a lower-case pair or
    # list is read as names in English only, and "y" joins words, it is no initial.
    for text in ("mi papá no puede mover el brazo derecho y habla raro",
                 "tengo la pierna roja, caliente e hinchada y me duele",
                 "fiebre y dolor desde ayer"):
        assert not {k for _, k in _found(text)} & {"person_name"}, _found(text)


def test_a_postcode_line_needs_an_address_beside_it():
    # Alone on its line, a number is a postal code only under an address.
    assert ("7188", "address") in _found("14 Elm Street\nSpringfield\n7188")
    assert _found("Your code is below.\n7188\nIt expires soon.") == set()


@given(st.from_regex(r"\+1[2-9]\d{9}", fullmatch=True))  # any digits, Arabic-Indic too
@example("+16175550100")
@settings(max_examples=200, deadline=None)
def test_a_north_american_number_in_e164_is_given_back_as_parsing_would(number):
    parsed = phonenumbers.parse(number, "US")
    assert patterns.e164(number) == phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(("text", "found"), [
    ("Ref RFM-100142 on file", ["RFM-100142"]),
    ("IBAN DE89370400440532013000", ["DE89370400440532013000"]),
    ("A1B2C3D4", ["A1B2C3D4"]),
    ("9" * 60 + "Mr.", []),  # no letter joins the run as a word: nothing, and at once
])
def test_issued_identifiers_mixing_letters_and_digits(text, found):
    assert [text[s:e] for s, e, kind in patterns.identifiers(text)
            if kind == "record_number"] == found
