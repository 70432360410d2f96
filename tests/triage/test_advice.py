"""Where an emergency sends the caller (911, Poison Control, 988), and the ``source`` each
rule and red flag names: both kept through a protocol file's import and export."""

from __future__ import annotations

import pytest

from clinicline.triage import yamlio
from clinicline.triage.engine import decide
from clinicline.triage.service import parse
from clinicline.triage.spec import Action, Priority
from clinicline.triage.yamlio import ProtocolError

POISON = """\
red_flags:
  - id: ingestion
    label: Swallowed something
    phrases: [swallowed bleach]
    source: "Poison Control: what to do"
  - id: not-breathing
    label: Not breathing
    phrases: [not breathing]
rules:
  - id: ingestion
    source: "Poison Control: call 1-800-222-1222"
    when: {red_flag: ingestion}
    then:
      priority: emergency
      actions: [advise-poison-control, escalate-now]
      say: Call Poison Control now at 1-800-222-1222.
  - id: not-breathing
    when: {red_flag: not-breathing}
    then:
      priority: emergency
      actions: [advise-911, escalate-now]
      say: Dial 911 now.
"""


def test_an_ingestion_without_symptoms_sends_the_caller_to_poison_control():
    _, spec = parse(POISON)
    decision = decide(spec, "clinical", {}, ["she swallowed bleach"])
    assert decision.priority == Priority.EMERGENCY
    assert decision.escalate_now and not decision.advise_911
    assert decision.advice == (Action.ADVISE_POISON_CONTROL,)


def test_with_a_life_threat_911_comes_first_and_both_lines_are_said():
    _, spec = parse(POISON)
    decision = decide(spec, "clinical", {}, ["she swallowed bleach and is not breathing"])
    assert decision.advice == (Action.ADVISE_911, Action.ADVISE_POISON_CONTROL)
    assert "1-800-222-1222" in decision.script and "911" in decision.script


def test_source_is_kept_on_the_spec_and_through_export():
    document, spec = parse(POISON)
    assert spec.rules[0].source == "Poison Control: call 1-800-222-1222"
    assert spec.red_flags[0].source == "Poison Control: what to do"
    assert spec.rules[1].source == ""
    assert yamlio.load(yamlio.dump(document)).data == document


@pytest.mark.parametrize("priority,actions,message", [
    ("emergency", "[escalate-now]", "must also advise-911 (or"),
    ("emergency", "[advise-988]", "must also escalate-now"),
    ("urgent", "[advise-988, escalate-now]", "may not advise-988"),
    ("urgent", "[advise-poison-control, escalate-now]", "may not advise-poison-control"),
    ("routine", "[advise-988, queue]", "may not advise-988"),
])
def test_an_advice_line_belongs_to_an_emergency_that_escalates(priority, actions, message):
    text = POISON.replace("priority: emergency", f"priority: {priority}", 1).replace(
        "[advise-poison-control, escalate-now]", actions)
    with pytest.raises(ProtocolError) as info:
        parse(text)
    assert message in str(info.value)


def test_an_empty_source_is_refused():
    with pytest.raises(ProtocolError) as info:
        parse(POISON.replace('"Poison Control: what to do"', '""'))
    assert "source must be non-empty text" in str(info.value)
