"""The development set (tests/triage/devset): its schema, its coverage of issue 9's body
systems and risk groups, and a floor under the figures bench/triage_eval.py prints, so
that a protocol change can only keep or raise them."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from bench.triage_eval import OPTIONAL, REQUIRED, documents, load, score
from clinicline.triage.spec import Priority
from tests.triage.phrasings import BENIGN, MIXED, NEGATED, POSITIVE

E, U, R = Priority.EMERGENCY, Priority.URGENT, Priority.ROUTINE

BODY_SYSTEMS = {"heart and circulation", "breathing", "brain and nerves", "digestion",
                "kidneys and urinary tract", "reproductive health and pregnancy", "skin",
                "eyes", "ears, nose and throat", "bones and injuries", "endocrine",
                "mental health", "poisoning and toxicology", "infections"}
SYSTEMS = BODY_SYSTEMS | {"office business"}
RISKS = {"pregnancy", "postpartum", "recent-surgery", "immunosuppressed", "anticoagulant",
         "critical-medicine"}
AGES = {"infant", "child"}
CALL_TYPES = {t["slug"] for t in yaml.safe_load(
    (Path(__file__).parents[2] / "clinicline" / "intake" / "default_call_types.yaml")
    .read_text(encoding="utf-8"))["call_types"]}
PRESENTATION_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# The issue's targets: emergency 100%, urgent-or-higher 98% (bench/triage_eval.py,
# December 2026: 217/217 and 184/184; 214/217 and 172/184 before the readers' rules for
# borderline oxygen, low and pregnancy blood pressure, lasting high sugar, older adults'
# infections, lasting diarrhoea, panic, and numbers said in words or in Spanish; 67/217
# and 22/184 before the protocol was widened at all). The rules were tuned on this set, so
# these figures flatter them: tests/triage/heldout, written without reading the rules and
# never used to tune them, measures how they generalise (bench/triage_eval.py prints it).
# Adding entries the protocol misses fails this test: widen the protocol in the same commit.
FLOOR = {E: 1.0, U: 0.98}
# Routine calls kept routine: today 183/194 (94.3%; 185 before the widening). A wider
# protocol may spend some of that on more findings, never below the target.
ROUTINE_KEPT_TARGET = 0.85


@pytest.fixture(scope="module")
def entries():
    return load()


def raw_entries():
    return [(path.name, i, raw) for path, doc in documents() for i, raw in
            enumerate(doc["entries"])]


def test_every_file_names_its_system():
    for path, doc in documents():
        assert set(doc) == {"system", "entries"}, path.name
        assert doc["system"] in SYSTEMS, path.name
        assert doc["entries"], path.name


def test_every_entry_has_the_keys_and_valid_values(default_spec):
    problems = [f"{name} entry {i + 1}: {problem}" for name, i, raw in raw_entries()
                for problem in _problems(default_spec, raw)]
    assert problems == []


def _problems(spec, raw) -> list[str]:
    checks = {
        "missing or unknown keys": set(REQUIRED) <= set(raw) <= set(REQUIRED + OPTIONAL),
        "an empty field": all(isinstance(raw.get(k), str) and raw[k].strip()
                              for k in REQUIRED),
        "lowest is not a priority": raw.get("lowest") in {str(p) for p in Priority},
        "presentation is not a short id": bool(
            PRESENTATION_ID.fullmatch(str(raw.get("presentation")))),
        "unknown call type": raw.get("call_type", "clinical") in CALL_TYPES,
        "unknown age": raw.get("age", "infant") in AGES,
        "unknown risk group": raw.get("risk", "pregnancy") in RISKS,
        "unknown language": raw.get("lang", "es") == "es",
        "answers must be yes/no to the protocol's questions": all(
            spec.question(q) is not None and isinstance(a, bool)
            for q, a in raw.get("answers", {}).items()),
    }
    return [problem for problem, ok in checks.items() if not ok]


def test_the_set_is_as_large_as_issue_9_asks(entries):
    assert len(entries) >= 500
    assert len({e.presentation for e in entries}) >= 120
    assert sum(e.lowest == R for e in entries) >= 120


def test_every_body_system_and_risk_group_is_covered(entries):
    by_system = defaultdict(set)
    for e in entries:
        by_system[e.system].add(e.lowest)
    assert set(by_system) == SYSTEMS
    for system in BODY_SYSTEMS:  # each with calls to raise and calls to leave routine
        assert R in by_system[system] and by_system[system] - {R}, system
    assert {e.risk for e in entries} - {None} == RISKS
    assert {e.age for e in entries} - {None} == AGES
    assert sum(e.lang == "es" for e in entries) >= 20


def test_a_presentation_has_one_label_and_one_system(entries):
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in entries:
        seen[e.presentation].add((e.system, str(e.lowest)))
    assert {p: s for p, s in seen.items() if len(s) > 1} == {}


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def test_no_text_twice_and_none_from_the_detectors_table(entries):
    counts = Counter(_key(e.text) for e in entries)
    assert [t for t, n in counts.items() if n > 1] == []
    table = {_key(t) for d in (POSITIVE, NEGATED) for ts in d.values() for t in ts}
    table |= {_key(t) for t in BENIGN} | {_key(m[0]) for m in MIXED}
    assert set(counts) & table == set()


# The misses issue 9 names, in callers' words, with the label its guidance gives.
NAMED_MISSES = [
    ("my son cant stop throwing up since 6am wont drink nothing", U),
    ("vomiting since this morning and hasnt peed all day, shes 3", U),
    ("painful swollen calf since i got off the flight from london yesterday", U),
    ("nosebleed on and off since lunch, hes on warfarin", U),
    ("burning when i pee, fever and pain in my side and back", U),
    ("my 4 year old has had a high fever for three days", U),
    ("my 6 week old has a temp of 100.9", E),
]


@pytest.mark.parametrize("text,lowest", NAMED_MISSES, ids=[t[:40] for t, _ in NAMED_MISSES])
def test_the_issues_named_misses_are_in_the_set(entries, text, lowest):
    assert [e.lowest for e in entries if e.text == text] == [lowest]


def test_the_figures_do_not_fall(default_spec, entries):
    result = score(default_spec, entries)
    assert result.share(E) >= FLOOR[E]
    assert result.share(U) >= FLOOR[U]
    assert result.share(R) >= ROUTINE_KEPT_TARGET
