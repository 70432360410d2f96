"""decide(): every default rule fires from the agent's answers and from the caller's words;
the highest priority wins; the same inputs always give the same decision; free text can
raise a priority and never lower it; the drills come out as the scenarios expect."""

from __future__ import annotations

import pytest
import yaml

from clinicline.triage import readers
from clinicline.triage.engine import decide, questions_for
from clinicline.triage.service import default_document
from clinicline.triage.spec import ADVICE, Action, Facts, Priority, compile_protocol
from tests.shared import SCENARIOS
from tests.triage.phrasings import BENIGN, MIXED, NEGATED, POSITIVE
from tests.triage.phrasings_wide import RULES as WIDE_RULES

E, U, R = Priority.EMERGENCY, Priority.URGENT, Priority.ROUTINE

# rule, priority, call type, answers, free text (either may be empty)
BY_ANSWERS = [
    ("chest-pain", E, "clinical", {"chest_pain": True}),
    ("breathing", E, "clinical", {"breathing": True}),
    ("unresponsive", E, "clinical", {"unresponsive": True}),
    ("stroke", E, "clinical", {"stroke_signs": True}),
    ("severe-bleeding", E, "clinical", {"severe_bleeding": True}),
    ("self-harm", E, "clinical", {"self_harm": True}),
    ("seizure", E, "clinical", {"seizure": True}),
    ("anaphylaxis", E, "clinical", {"anaphylaxis": True}),
    ("head-injury-danger-signs", E, "clinical", {"head_injury": True,
                                                 "head_injury_signs": True}),
    ("pregnancy-heavy-bleeding", E, "clinical", {"pregnant": True, "pregnancy_bleeding": True,
                                                 "pregnancy_heavy_bleeding": True}),
    # Both the question rule (urgent) and the AAP's threshold rule (emergency) fire.
    ("infant-fever", E, "clinical", {"infant": True, "infant_fever": True}),
    ("infant-fever-reading", E, "clinical", {"infant": True, "infant_fever": True}),
    ("pregnancy-bleeding", U, "clinical", {"pregnant": True, "pregnancy_bleeding": True}),
    ("post-op-warning-signs", U, "clinical", {"recent_surgery": True, "postop_signs": True}),
    ("critical-medicine-running-out", U, "refill", {"critical_medicine": True,
                                                    "runs_out": True}),
    ("refill", R, "refill", {}),
    ("office-business", R, "billing", {}),
    ("complaint", R, "complaint", {}),
]
BY_TEXT = [
    ("chest-pain", E, "Pressure in his chest since dinner"),
    ("breathing", E, "since tonight he is short of breath"),
    ("unresponsive", E, "she collapsed and we can't wake her"),
    ("stroke", E, "her face is drooping and her speech is slurred"),
    ("severe-bleeding", E, "the cut won't stop bleeding"),
    ("self-harm", E, "he says he wants to kill himself"),
    ("seizure", E, "my son is having a seizure"),
    ("anaphylaxis", E, "her throat is closing up after the bee sting"),
    ("head-injury-danger-signs", E, "fell and hit his head and now he keeps throwing up"),
    ("pregnancy-heavy-bleeding", E, "I'm 20 weeks pregnant and bleeding heavily"),
    ("infant-fever", E, "my 5 week old has a fever of 100.8"),
    ("pregnancy-bleeding", U, "I'm 12 weeks pregnant and spotting"),
    ("post-op-warning-signs", U, "Knee surgery two days ago. Calf is swollen and painful."),
    ("blood-clot", U, "they found a blood clot in his leg"),
    ("head-injury-on-blood-thinner", E, "she's on warfarin and bumped her head"),
    ("critical-medicine-running-out", U, "he ran out of his insulin this morning"),
    ("allergic-reaction", U, "broke out in hives after the new antibiotic"),
    ("severe-pain", U, "sudden severe pain in her belly"),
    # Rules on what the readers find (numbers, risk groups): tests/triage/test_readings.py
    ("infant-fever-reading", E, "my 5 week old has a fever of 100.8"),
    ("low-oxygen", E, "his sats are 88% on the pulse ox"),
    ("low-blood-sugar-confused", E, "sugar is 40 and he is confused"),
    ("high-fever", U, "temp 104.2 since this afternoon"),
    ("toddler-high-fever", U, "my 18 month old has a temp of 39.4"),
    ("fever-lasting", U, "my 4 year old has had a high fever for three days"),
    ("bleeding-on-blood-thinner", U, "nosebleed on and off for hours, he takes Eliquis"),
    ("low-blood-sugar", U, "her blood sugar is 48"),
    ("high-blood-sugar", U, "glucose 450 and very thirsty"),
    ("very-high-blood-pressure", U, "bp 192/124 and a pounding headache"),
    # the widened default (issue 9), one caller's words each
    *[(rule, Priority(priority), text) for rule, priority, text, _ in WIDE_RULES],
]


@pytest.mark.parametrize("rule,text", [(r[0], r[3]) for r in WIDE_RULES],
                         ids=[r[0] for r in WIDE_RULES])
def test_a_widened_rule_does_not_fire_from_negated_words(default_spec, rule, text):
    assert rule not in decide(default_spec, "clinical", {}, [text]).rules


def test_every_default_rule_is_exercised(default_spec):
    assert {r.id for r in default_spec.rules} == {c[0] for c in BY_ANSWERS + BY_TEXT}


@pytest.mark.parametrize("rule,priority,call_type,answers", BY_ANSWERS,
                         ids=[c[0] for c in BY_ANSWERS])
def test_rule_fires_from_the_agents_answers(default_spec, rule, priority, call_type, answers):
    decision = decide(default_spec, call_type, answers)
    assert rule in decision.rules
    assert decision.priority == priority
    assert_actions_fit(decision.priority, decision.actions)


@pytest.mark.parametrize("rule,priority,text", BY_TEXT, ids=[c[0] for c in BY_TEXT])
def test_rule_fires_from_the_callers_words(default_spec, rule, priority, text):
    decision = decide(default_spec, "clinical", {}, [text])
    assert rule in decision.rules
    assert decision.priority == priority
    assert_actions_fit(decision.priority, decision.actions)


def assert_actions_fit(priority: Priority, actions: tuple[Action, ...]) -> None:
    # An emergency names where to turn: 911, or Poison Control, or 988.
    assert bool(set(ADVICE) & set(actions)) == (priority == E)
    assert (Action.ESCALATE_NOW in actions) == (priority != R)


def test_an_emergency_says_dial_911(default_spec):
    decision = decide(default_spec, "clinical", {"chest_pain": True})
    assert "dial 911" in decision.script
    assert decision.advise_911 and decision.escalate_now


def test_the_highest_priority_wins_and_speaks(default_spec):
    text = "Knee surgery two days ago. Calf is swollen and painful, and he is short of breath."
    decision = decide(default_spec, "clinical", {}, [text])
    assert decision.rules == ("breathing", "post-op-warning-signs", "dvt")  # all, recorded
    assert decision.priority == E
    assert decision.actions == (Action.ADVISE_911, Action.ESCALATE_NOW)
    assert decision.script.startswith("Trouble breathing is an emergency")


def test_no_rule_fired_is_routine_with_the_default_words(default_spec):
    decision = decide(default_spec, "clinical", {}, ["my daughter has a runny nose"])
    assert (decision.priority, decision.rules) == (R, ())
    assert decision.actions == (Action.QUEUE,)
    assert decision.script == default_spec.default_say
    assert decision.protocol_version == 1


def test_the_same_inputs_always_give_the_same_decision(default_spec):
    recompiled = compile_protocol(default_document(), 1)
    texts = ["no chest pain but he can't breathe", "she fainted"]
    decisions = {decide(spec, "clinical", {"seizure": False, "infant": True}, texts)
                 for spec in (default_spec, recompiled) for _ in range(3)}
    assert len(decisions) == 1


ALL_TEXTS = sorted({t for table in (POSITIVE, NEGATED) for ts in table.values() for t in ts}
                   | set(BENIGN) | {m[0] for m in MIXED})
SITUATIONS = [("clinical", {}), ("refill", {}), ("billing", {}),
              ("clinical", {"infant": True}), ("clinical", {"recent_surgery": True}),
              ("refill", {"critical_medicine": True}), ("clinical", {"pregnant": True})]


@pytest.mark.parametrize("call_type,answers", SITUATIONS)
def test_free_text_raises_the_priority_and_never_lowers_it(default_spec, call_type, answers):
    without = decide(default_spec, call_type, answers)
    for text in ALL_TEXTS:
        with_text = decide(default_spec, call_type, answers, [text])
        assert with_text.priority.rank >= without.priority.rank, text
        assert set(without.rules) <= set(with_text.rules), text


def test_a_no_answer_never_outweighs_the_callers_words(default_spec):
    decision = decide(default_spec, "clinical", {"breathing": False}, ["he can't breathe"])
    assert decision.priority == E


def test_answers_to_unknown_questions_are_refused(default_spec):
    with pytest.raises(ValueError, match="no question 'chest-pain'"):
        decide(default_spec, "clinical", {"chest-pain": True})


def test_follow_up_questions_appear_once_their_question_is_answered_yes(default_spec):
    asked = [q.id for q in questions_for(default_spec, "clinical")]
    assert "head_injury" in asked and "head_injury_signs" not in asked
    asked = [q.id for q in questions_for(default_spec, "clinical", {"head_injury": True})]
    assert asked.index("head_injury_signs") == asked.index("head_injury") + 1
    chain = {"pregnant": True, "pregnancy_bleeding": False}
    assert "pregnancy_heavy_bleeding" not in [q.id for q in questions_for(
        default_spec, "clinical", chain)]


def test_questions_follow_the_call_type(default_spec):
    assert [q.id for q in questions_for(default_spec, "refill")] == ["critical_medicine"]
    assert questions_for(default_spec, "billing") == []


def call_scenarios() -> list[dict]:
    found = [yaml.safe_load(p.read_text()) for p in sorted(SCENARIOS.glob("*.yaml"))]
    calls = [s for s in found if s.get("kind") == "call"]
    assert len(calls) >= 5  # the drills are there: their absence is a failure, not a skip
    return calls


@pytest.mark.parametrize("scenario", call_scenarios(), ids=lambda s: s["name"])
def test_drill_calls_get_the_expected_priority(default_spec, scenario):
    # Every free-text field is read; names, numbers and dates must not trip anything.
    texts = [v for v in scenario["fields"].values() if isinstance(v, str)]
    decision = decide(default_spec, scenario["call_type"], {}, texts)
    expect = scenario["expect"]
    assert decision.priority == expect["priority"]
    assert decision.escalate_now == expect["escalated"]
    assert decision.advise_911 == expect.get("advise_emergency_services", False)


BECAUSE_DRILL = ['"short of breath" → breathing, emergency',
                 '"Knee surgery" + "Calf is swollen and painful" → post-op-warning-signs, urgent',
                 '"Calf is swollen and painful" → dvt, urgent']


def test_the_urgent_clinical_drill_is_an_emergency(default_spec):
    concern = ("Knee surgery two days ago. Calf is swollen and painful, and since tonight "
               "he is short of breath.")
    decision = decide(default_spec, "clinical", {}, [concern])
    assert decision.as_json() == {
        "priority": "emergency", "rules": ["breathing", "post-op-warning-signs", "dvt"],
        "because": BECAUSE_DRILL, "protocol_version": 1}
    assert decision.red_flags == ("breathing", "calf-swelling", "recent-surgery")


@pytest.mark.parametrize("call_type,answers", SITUATIONS)
def test_only_rules_that_cannot_hold_are_skipped(default_spec, call_type, answers):
    """decide() tests only the rules whose condition could hold; every rule it skips
    must be one that does not, for every text of the tables."""
    yes = frozenset(q for q, a in answers.items() if a)
    for text in ALL_TEXTS:
        flags = default_spec.detector.findings([text])
        facts = Facts(call_type, yes, dict.fromkeys(flags, ""), readers.read([text]))
        every = [r for r in default_spec.rules if r.when.holds(facts)]
        assert [r for r in default_spec.rules_that_may_hold(call_type, yes, flags)
                if r.when.holds(facts)] == every, text
