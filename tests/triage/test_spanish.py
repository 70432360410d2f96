"""Spanish free text: the default protocol's Spanish lexicon, measured on the labelled set
in phrasings_es.py, and the detector reading Spanish (accents, case, negation) the way it
reads English."""

from __future__ import annotations

import copy
import unicodedata

import pytest

from clinicline.triage.engine import decide
from clinicline.triage.service import default_document
from clinicline.triage.spec import Condition, Priority, compile_protocol
from tests.triage.phrasings_es import EMERGENCY, MIXED, NEGATED, ROUTINE, URGENT, measure

EMERGENCIES = [(rule, text) for rule, texts in EMERGENCY.items() for text in texts]
URGENTS = [(rule, text) for rule, texts in URGENT.items() for text in texts]


def unaccented(text: str) -> str:
    """As a caller types on a phone: "papa" for "papá", "corazon" for "corazón"."""
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


def reads(condition: Condition) -> bool:
    return condition.kind in ("reading", "risk") or any(map(reads, condition.children))


def red_flags_of(condition: Condition) -> set[str]:
    own = set(condition.values) if condition.kind == "red_flag" else set()
    return own.union(*(red_flags_of(c) for c in condition.children))


def test_every_red_flag_of_an_emergency_or_urgent_rule_has_spanish(default_spec):
    needed = set().union(*(red_flags_of(r.when) for r in default_spec.rules
                           if r.priority != Priority.ROUTINE))
    spanish = {f.id for f in default_spec.red_flags if "es" in f.languages}
    assert needed <= spanish
    # Every rule on red flags alone has a Spanish phrasing here; rules on readings (ages,
    # temperatures, risk groups) are measured in Spanish in test_readers.
    phrased = set(EMERGENCY) | set(URGENT)
    assert {r.id for r in default_spec.rules
            if r.priority != Priority.ROUTINE and not reads(r.when)} <= phrased
    assert phrased <= {r.id for r in default_spec.rules if r.priority != Priority.ROUTINE}


def test_the_labelled_set_is_large_enough():
    assert len(EMERGENCIES) + len(URGENTS) + len(ROUTINE) >= 60
    assert len(ROUTINE) >= 20
    assert all(len(texts) >= 2 for texts in [*EMERGENCY.values(), *URGENT.values()])


def test_sensitivity_for_emergencies_and_specificity(default_spec):
    figures = measure(default_spec)
    assert figures.sensitivity >= 0.9, figures.missed
    assert figures.urgent_sensitivity >= 0.9, figures.missed
    assert figures.raised == ()  # every routine text stays routine


@pytest.mark.parametrize("spell", [str, unaccented, str.upper], ids=["as-written", "no-accents",
                                                                   "capitals"])
@pytest.mark.parametrize("rule,text", EMERGENCIES)
def test_an_emergency_in_spanish_is_an_emergency(default_spec, rule, text, spell):
    decision = decide(default_spec, None, {}, [spell(text)])
    assert decision.priority == Priority.EMERGENCY
    assert rule in decision.rules


@pytest.mark.parametrize("spell", [str, unaccented], ids=["as-written", "no-accents"])
@pytest.mark.parametrize("rule,text", URGENTS)
def test_an_urgent_presentation_in_spanish_escalates(default_spec, rule, text, spell):
    decision = decide(default_spec, None, {}, [spell(text)])
    assert decision.priority.rank >= Priority.URGENT.rank
    assert rule in decision.rules


@pytest.mark.parametrize("spell", [str, unaccented, str.upper], ids=["as-written", "no-accents",
                                                                   "capitals"])
@pytest.mark.parametrize("text", ROUTINE)
def test_routine_spanish_stays_routine(default_spec, text, spell):
    decision = decide(default_spec, None, {}, [spell(text)])
    assert decision.priority == Priority.ROUTINE
    assert decision.rules == ()


@pytest.mark.parametrize("text", NEGATED)
def test_a_negated_red_flag_is_mentioned_and_negated(default_spec, text):
    hits = default_spec.detector.hits(text)
    assert hits and all(h.negated for h in hits)


@pytest.mark.parametrize("text,found,absent", MIXED, ids=[m[0][:40] for m in MIXED])
def test_spanish_negation_covers_its_clause_only(default_spec, text, found, absent):
    findings = default_spec.detector.findings([text])
    assert found <= findings
    assert not findings & absent


@pytest.mark.parametrize("text,phrase", [
    ("no puede respirar", "no puede respirar"),
    ("está sin respirar", "sin respirar"),
    ("no respira", "no respira"),
    ("NO PUEDE RESPIRAR", "NO PUEDE RESPIRAR"),
])
def test_a_negation_inside_a_red_flag_phrase_negates_nothing(default_spec, text, phrase):
    hits = [h for h in default_spec.detector.hits(text) if h.flag == "breathing"]
    assert [(h.phrase, h.negated) for h in hits][:1] == [(phrase, False)]
    assert all(not h.negated for h in hits)


def test_hits_report_spanish_where_and_why(default_spec):
    hits = default_spec.detector.hits("No tiene dolor de pecho pero no puede respirar")
    assert [(h.flag, h.phrase, h.negated) for h in hits] == [
        ("chest-pain", "dolor de pecho", True), ("breathing", "no puede respirar", False)]


@pytest.mark.parametrize("text", ["dolor en el corazón", "dolor en el corazon",
                                  "DOLOR EN EL CORAZÓN", "dolor en el corazo\u0301n"])
def test_accents_and_case_do_not_hide_a_flag(default_spec, text):
    assert "chest-pain" in default_spec.detector.findings([text])


@pytest.mark.parametrize("text", [
    "tiene anginas",             # tonsillitis; "angina" is chest pain, a whole word
    "tiene un derrame en el ojo",  # a burst vessel in the eye, not a stroke
    "perdió el sentido del olfato",  # lost the sense of smell, not consciousness
    "el bebe bebe mucha agua",   # "bebé" without its accent, and the verb "bebe"
])
def test_look_alike_words_are_not_red_flags(default_spec, text):
    assert not default_spec.detector.findings([text]) - {"young-infant"}


def test_english_reads_the_same_without_the_spanish_lexicon(default_spec):
    """A stored protocol version has no languages: it compiles and reads English as the
    default does."""
    document = copy.deepcopy(default_document())
    for flag in document["red_flags"]:
        flag.pop("languages")
    english = compile_protocol(document, 1)
    assert all(f.languages == () for f in english.red_flags)
    text = "no chest pain but he can't breathe, no fever"
    assert english.detector.hits(text) == default_spec.detector.hits(text)
    assert english.detector.findings(["mi papá no puede respirar"]) == frozenset()
