"""Protocol conditions on what the readers find ({reading: ..}, {risk: ..}): validated by
line, only ever raising a priority, explained in words a nurse reads, and kept through
export; protocols written before them still load and decide as they did."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicline.triage import yamlio
from clinicline.triage.engine import decide
from clinicline.triage.models import Protocol
from clinicline.triage.service import default_document, parse
from clinicline.triage.spec import Priority, compile_protocol
from tests.triage.phrasings import BENIGN, POSITIVE
from tests.triage.test_protocol_file import SMALL, assert_refused_at_its_line

E, U, R = Priority.EMERGENCY, Priority.URGENT, Priority.ROUTINE

# The examples, and the default protocol's other rules on readings.
EXAMPLES = [
    ("A 6-week-old with a temperature of 100.9°F", E, "infant-fever-reading"),
    ("my 4 year old has had a high fever for three days", U, "fever-lasting"),
    ("nosebleed on and off for hours, he's on warfarin", U, "bleeding-on-blood-thinner"),
    ("my 2 month old, temp 38.1", E, "infant-fever-reading"),
    ("fever 104.5 in my husband", U, "high-fever"),
    ("my 2yo has a fever of 102.4", U, "toddler-high-fever"),
    ("gums bleeding, takes Plavix", U, "bleeding-on-blood-thinner"),
    ("his oxygen level is 90", E, "low-oxygen"),
    ("bg 2.8 mmol and shaky", U, "low-blood-sugar"),
    ("sugar 38 and she's not making sense", E, "low-blood-sugar-confused"),
    ("meter says 480 mg/dl", U, "high-blood-sugar"),
    ("bp 185/100 and a headache", U, "very-high-blood-pressure"),
    # The year dates the gallstones, not the diarrhoea's days.
    ("diarrhea for 8 days gallstones diagnosed last year", U,
     "prolonged-diarrhoea-or-vomiting"),
]


@pytest.mark.parametrize("text,priority,rule", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_a_reading_sets_the_priority_the_guidance_gives(default_spec, text, priority, rule):
    decision = decide(default_spec, "clinical", {}, [text])
    assert (decision.priority, rule in decision.rules) == (priority, True)


# Just under each threshold, or negated: the reading rules stay quiet.
QUIET = ["my 6 week old, temp 99.8", "my 4 month old has a fever of 100.9",
         "my 6 week old has no fever over 100.4", "fever of 103.9", "my 4 year old, fever 102.5",
         "nosebleed, not on blood thinners", "sats 95%", "sugar is 54", "glucose 399",
         "bp 178/110 and a headache", "my 4 year old has had a fever since this morning"]


@pytest.mark.parametrize("text", QUIET)
def test_below_a_threshold_or_negated_no_reading_rule_fires(default_spec, text):
    reading_rules = {r.id for r in default_spec.rules if r.source}
    assert not reading_rules & set(decide(default_spec, "clinical", {}, [text]).rules)


def test_the_decision_says_why_in_a_nurses_words(default_spec):
    decision = decide(default_spec, "clinical", {}, ["my 7 week old has a fever of 38.6 °C"])
    assert ("temperature 38.6 °C (101.5 °F) + age 7 weeks → infant-fever-reading, emergency"
            in decision.because)
    assert len(decision.because) == len(decision.rules)
    assert decision.as_json()["because"] == list(decision.because)


def test_the_moment_of_the_call_reads_since_a_weekday():
    at = dt.datetime(2025, 3, 14, 10, 0)  # a Friday: Monday was four days ago
    spec = compile_protocol(default_document(), 1)
    text = ["my 5 year old has had a fever since Monday"]
    assert "fever-lasting" in decide(spec, "clinical", {}, text, at=at).rules
    tuesday = dt.datetime(2025, 3, 11, 10, 0)
    assert "fever-lasting" not in decide(spec, "clinical", {}, text, at=tuesday).rules


TEXTS = sorted({t for ts in POSITIVE.values() for t in ts} | set(BENIGN)
               | {e[0] for e in EXAMPLES} | set(QUIET))


@settings(max_examples=300, deadline=None)
@given(first=st.sampled_from(TEXTS), more=st.sampled_from(TEXTS),
       joiner=st.sampled_from([". ", ", ", " and ", "\n", " "]))
def test_adding_text_never_lowers_a_priority_nor_unfires_a_rule(default_spec, first, more,
                                                                joiner):
    alone = decide(default_spec, "clinical", {}, [first])
    for texts in ([first, more], [f"{first}{joiner}{more}"]):
        added = decide(default_spec, "clinical", {}, texts)
        assert added.priority.rank >= alone.priority.rank
        if len(texts) == 2:  # a second field can only add findings
            assert set(alone.rules) <= set(added.rules)


WITH_READINGS = SMALL + """\
  - id: infant-fever
    source: AAP healthychildren.org
    when:
      all:
        - {reading: temperature_f, at_least: 100.4}
        - {reading: age_days, at_least: 0, at_most: 90}
    then:
      priority: emergency
      actions: [advise-911, escalate-now]
      say: Go to the emergency department now.
  - id: bleeding-thinner
    when: {all: [{risk: anticoagulant}, {red_flag: short-of-breath}]}
    then:
      priority: urgent
      actions: [escalate-now]
      say: Paging.
"""


def test_reading_and_risk_conditions_compile_and_fire():
    _, spec = parse(WITH_READINGS)
    assert spec.reads
    assert decide(spec, None, {}, ["my 3 week old: temp 38.2"]).rules == ("infant-fever",)
    assert decide(spec, None, {}, ["on eliquis, can't breathe"]).priority == E
    rule = next(r for r in spec.rules if r.id == "infant-fever")
    assert rule.source == "AAP healthychildren.org"
    assert rule.when.describe() == ("all of (reading: temperature_f ≥ 100.4 °F; "
                                    "reading: age_days ≥ 0 days and ≤ 90 days)")


REFUSALS = [
    ("an unknown reading", "reading: temperature_f", "reading: temperature_c",
     "temperature_c", "unknown reading 'temperature_c'"),
    ("a bound that is no number", "at_least: 100.4", "at_least: high", "at_least: high",
     "at_least must be a number"),
    ("a bound in the wrong unit", "at_least: 100.4", "at_least: 38", "at_least: 38",
     "at_least 38 is outside 90–110 °F"),
    ("no bound", "{reading: temperature_f, at_least: 100.4}", "{reading: temperature_f}",
     "{reading: temperature_f}", "needs at_least or at_most"),
    ("an empty band", "at_least: 0, at_most: 90", "at_least: 91, at_most: 90",
     "at_least: 91", "at_most is below at_least"),
    ("an unknown key", "at_least: 0, at_most: 90", "at_least: 0, below: 90", "below: 90",
     "unknown key 'below' in a reading condition"),
    ("an unknown risk group", "{risk: anticoagulant}", "{risk: blood-thinner}",
     "risk: blood-thinner", "unknown risk group 'blood-thinner'"),
    ("an empty source", "source: AAP healthychildren.org", "source: ''", "source: ''",
     "rule 'infant-fever' source must be non-empty text"),
]


@pytest.mark.parametrize("what,old,new,marker,message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_bad_reading_condition_is_refused_naming_its_line(what, old, new, marker, message):
    assert_refused_at_its_line(WITH_READINGS, old, new, marker, message)


def test_sources_and_conditions_survive_export_and_import():
    document = default_document()
    assert all(r.get("source") for r in document["rules"] if "reading" in str(r["when"]))
    exported = yamlio.dump(document)
    assert yamlio.load(exported).data == document
    assert compile_protocol(yamlio.load(exported), 1) == compile_protocol(document, 1)


@pytest.mark.django_db
def test_a_version_stored_before_readers_still_loads_and_decides(practice):
    old = yamlio.load(SMALL).data  # no reading, risk or source anywhere
    protocol = Protocol.objects.create(practice=practice, version=3, document=old)
    assert not protocol.spec.reads
    decision = decide(protocol.spec, None, {}, ["he can't breathe, temp 104"])
    assert (decision.priority, decision.rules) == (E, ("breathing",))
    assert decision.because == ('"can\'t breathe" → breathing, emergency',)
