"""The detector tries a red flag's regex only on a text with a word that one of its
patterns can begin with; that screen must never skip a red flag that would match."""

from __future__ import annotations

import re
import string

import pytest

from clinicline.triage.detector import Detector, compile_flag, normalize
from clinicline.triage.screen import AS_ASCII, pattern_starts
from tests.triage import phrasings, phrasings_es

TEXTS = [*(t for texts in phrasings.POSITIVE.values() for t in texts),
         *(t for texts in phrasings.NEGATED.values() for t in texts),
         *phrasings.BENIGN, *(m[0] for m in phrasings.MIXED),
         *(t for texts in phrasings_es.EMERGENCY.values() for t in texts),
         *(t for texts in phrasings_es.URGENT.values() for t in texts),
         *phrasings_es.ROUTINE, "", "3 weeks old", "appendectomy", "Pt c/o CP x 2 hrs"]


@pytest.mark.parametrize("spell", [str, str.upper, str.title], ids=["as-written", "capitals",
                                                                    "title"])
def test_the_screen_skips_no_red_flag_that_matches(default_spec, spell):
    detector = default_spec.detector
    for text in map(normalize, map(spell, TEXTS)):
        matching = {f.id for f in detector.flags if f.regex.search(text)}
        assert matching <= {f.id for f in detector.candidates(text)}, text


def test_the_screen_skips_most_red_flags_on_office_business(default_spec):
    detector = default_spec.detector
    text = normalize("I need to reschedule my appointment for next Tuesday")
    assert len(detector.candidates(text)) < len(detector.flags) / 2


@pytest.mark.parametrize("pattern,starts", [
    ("chest pain", {"chest "}),
    ("(?:se )?desmay\\w*", {"desmay", "se des"}),
    ("a?b", {"ab", "b"}),
    ("ab?", {"a", "ab"}),
    ("(?-i:SOB)", {"sob"}),               # any case: the pattern still decides
    ("(?<!heat )strokes?", {"stroke"}),   # a lookbehind takes no letter
    ("x*y", {"y", "xy", "xxy", "xxxy", "xxxxy", "xxxxxy", "xxxxxx"}),
    ("\\w+ectomy", {""}),                 # could begin anywhere
    ("\u017fick", {""}),                  # "ſ" matches "s": outside ASCII, anywhere
])
def test_where_a_pattern_can_begin(pattern, starts):
    assert pattern_starts(pattern) == starts


@pytest.mark.parametrize("pattern,text", [
    ("sick", "\u017fick"),          # "ſ" matches "s" in any case
    ("kind", "\u212aind"),          # the Kelvin sign matches "k"
    ("ill", "\u0130ll"), ("ill", "\u0131ll"),
    ("\u017fick", "SICK"),          # and the other way round
    ("\\d weeks old", "\u0663 weeks old"),  # an Arabic-Indic three is a digit
    ("\u03c3\u03bf\u03c6", "\u03a3\u039f\u03a6"),  # Greek in capitals: may begin anywhere
])
def test_the_screen_reads_case_and_digits_as_the_regex_does(pattern, text):
    detector = Detector((compile_flag("flag", [pattern]),))
    assert re.search(pattern, text, re.IGNORECASE)
    assert detector.findings([text]) == {"flag"}


def test_every_character_that_matches_an_ascii_letter_is_read_as_it():
    """AS_ASCII must know every such character: Python's re is the judge."""
    others = {chr(c) for c in range(128, 0x10000)
              if any(x.isascii() for x in chr(c).lower() + chr(c).upper() + chr(c).casefold())}
    matching = {ch for ch in others for letter in string.ascii_lowercase
                if re.fullmatch(letter, ch, re.IGNORECASE)}
    assert matching == {chr(c) for c in AS_ASCII if c > 127}
