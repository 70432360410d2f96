"""The free-text red-flag detector, measured in both directions: every positive phrasing
must flag (recall 100%), negated phrasings must not (the false-positive rate is pinned to
the few deliberate overcalls listed in phrasings.OVERCALLS)."""

from __future__ import annotations

import pytest

from clinicline.triage.engine import decide
from clinicline.triage.spec import Priority, ProtocolSpec
from tests.triage.phrasings import BENIGN, MIXED, NEGATED, OVERCALLS, POSITIVE

POSITIVES = [(flag, text) for flag, texts in POSITIVE.items() for text in texts]
NEGATIVES = [(flag, text) for flag, texts in NEGATED.items() for text in texts]


def flagged(spec: ProtocolSpec, flag: str, text: str) -> bool:
    return flag in spec.detector.findings([text])


def test_every_default_red_flag_is_measured_both_ways(default_spec):
    ids = {f.id for f in default_spec.red_flags}
    assert set(POSITIVE) == ids
    assert set(NEGATED) == ids
    assert all(len(POSITIVE[f]) >= 4 for f in ids)


@pytest.mark.parametrize("flag,text", POSITIVES)
def test_positive_phrasing_flags(default_spec, flag, text):
    assert flagged(default_spec, flag, text)


@pytest.mark.parametrize("flag,text", POSITIVES)
def test_positive_phrasing_flags_in_capitals(default_spec, flag, text):
    assert flagged(default_spec, flag, text.upper())


@pytest.mark.parametrize("flag,text", NEGATIVES)
def test_negated_phrasing_does_not_flag(default_spec, flag, text):
    assert flagged(default_spec, flag, text) == ((flag, text) in OVERCALLS)


@pytest.mark.parametrize("flag,text", NEGATIVES)
def test_negation_reads_the_same_in_capitals(default_spec, flag, text):
    assert flagged(default_spec, flag, text.upper()) == flagged(default_spec, flag, text)


@pytest.mark.parametrize("text,found,absent", MIXED, ids=[m[0][:40] for m in MIXED])
def test_negation_covers_its_clause_only(default_spec, text, found, absent):
    findings = default_spec.detector.findings([text])
    assert found <= findings
    assert not findings & absent


@pytest.mark.parametrize("text", BENIGN)
def test_office_business_fires_no_red_flag_rule(default_spec, text):
    decision = decide(default_spec, None, {}, [text])
    assert decision.priority == Priority.ROUTINE
    assert decision.rules == ()


def test_recall_is_total_and_overcalls_are_only_the_listed_ones(default_spec):
    missed = [p for p in POSITIVES if not flagged(default_spec, *p)]
    overcalled = {n for n in NEGATIVES if flagged(default_spec, *n)}
    assert missed == []                       # recall 100%
    assert overcalled == OVERCALLS            # false-positive rate len(OVERCALLS)/negatives
    assert len(OVERCALLS) / len(NEGATIVES) < 0.05


@pytest.mark.parametrize("text", [
    "he’s not breathing",                  # curly apostrophe
    "short-of-breath",                     # hyphens
    "SHORT   OF\tBREATH",                   # case and spacing
    "short of breath!!!",
    "(short of breath)",
])
def test_spelling_and_punctuation_do_not_hide_a_flag(default_spec, text):
    assert flagged(default_spec, "breathing", text)


def test_a_negation_in_one_field_does_not_reach_another(default_spec):
    assert "chest-pain" in default_spec.detector.findings(["no", "chest pain"])


def test_hits_report_where_and_why(default_spec):
    hits = default_spec.detector.hits("No chest pain but he can't breathe")
    assert [(h.flag, h.phrase, h.negated) for h in hits] == [
        ("chest-pain", "chest pain", True), ("breathing", "can't breathe", False)]


# An unrelated negated clause before or after a red flag must not reach it.
AROUND = ["No fever. {}", "no fever but {}", "Denies nausea; {}", "not bleeding, and {}",
          "No vomiting!\n{}", "no rash, {}", "without a cough but {}", "No. {}",
          "nothing else, {}", "not sure, {}", "{}. No fever.", "{}, no rash", "{} but no fever",
          "{}, denies nausea", "{}; not vomiting"]


@pytest.mark.parametrize("frame", AROUND)
def test_a_negated_neighbour_does_not_hide_a_red_flag(default_spec, frame):
    missed = [(flag, frame.format(text)) for flag, text in POSITIVES
              if not flagged(default_spec, flag, frame.format(text))]
    assert missed == []


# An event dated years back is history; a state is not; a span that runs to now, or a
# sentence that also says now, stands.
PAST = [
    ("had a stroke in 2018, need the disability form filled in", "stroke", False),
    ("my heart attack was two years ago, cardiology wants my notes", "chest-pain", False),
    ("tried to overdose back in 2019, doing much better now", "self-harm", False),
    ("tuvo un derrame cerebral el año pasado, necesita un formulario", "stroke", False),
    ("chest pain on and off since last year, worse today", "chest-pain", True),
    ("had a seizure 2 years ago and another one tonight", "seizure", True),
    ("had a seizure in 2019 and now she is seizing again", "seizure", True),
    ("kidney transplant in 2019, fever of 101 tonight", "immunosuppressed", True),
    ("had chest pain last week, want to get it checked", "chest-pain", True),
    ("in 2018 he had a stroke", "stroke", False),
    # The year is another mention's: the event stands (found by the hypothesis test of
    # test_readings, a run-on of two callers' phrasings).
    ("I think I'm having a heart attack an ectopic last year", "chest-pain", True),
    ("I think she overdosed gallstones diagnosed last year", "self-harm", True),
    ("I think he's having a stroke kidney transplant last year", "stroke", True),
]

# Found the same way: a pattern's exclusion read a longer word ("of" in "off"), or
# excluded a real emergency ("shot this morning" read as a vaccine).
STANDS = [("I think he's having a stroke off her feeds", "stroke"),
          ("he was shot this morning", "major-trauma"),
          ("he was shot this panic attack wont stop", "major-trauma")]


@pytest.mark.parametrize("text,flag", STANDS, ids=[s[0][:40] for s in STANDS])
def test_an_exclusion_does_not_hide_a_red_flag(default_spec, text, flag):
    assert flagged(default_spec, flag, text)


@pytest.mark.parametrize("text,flag,stands", PAST, ids=[p[0][:40] for p in PAST])
def test_an_event_dated_years_back_is_history(default_spec, text, flag, stands):
    assert flagged(default_spec, flag, text) is stands
