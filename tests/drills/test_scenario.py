"""The scenario loader: every shared file reads; anything else is a ScenarioError naming
the file and the key, never another exception (fuzzed)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicline.drills.scenario import EXPECT, TOP, ScenarioError, folder, load, parse
from tests.shared import SCENARIOS

GOOD = yaml.safe_load((SCENARIOS / "urgent-clinical.yaml").read_text(encoding="utf-8"))


def test_every_shared_scenario_reads():
    paths = folder(SCENARIOS)
    assert len(paths) == 8
    assert {load(p).kind for p in paths} == {"call", "return-call", "outreach"}


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "fax"}, "f.yaml: kind: must be call or return-call or outreach"),
    ({"colour": "red"}, "f.yaml: colour: unknown key"),
    ({"when": "tomorrow"}, "f.yaml: when: must be a local time"),
    ({"when": "2026-12-05T02:10+00:00"}, "f.yaml: when: must be a local time"),
    ({"provider_acks_after_s": "20"}, "f.yaml: provider_acks_after_s: must be whole seconds"),
    ({"provider_acks_after_s": True}, "f.yaml: provider_acks_after_s: must be whole seconds"),
    ({"expect": {"priority": "soon"}}, "f.yaml: expect.priority: must be emergency"),
    ({"expect": {"not_visible_to": ["janitor"]}}, "f.yaml: expect.not_visible_to: must be"),
    ({"expect": {"sent": 1.5}}, "f.yaml: expect.sent: must be a whole number"),
    ({"expect": {"secrets": "Walter"}}, "f.yaml: expect.secrets: must be a list"),
    ({"fields": ["Walter"]}, "f.yaml: fields: must be field names"),
])
def test_a_wrong_key_or_type_is_named(change, message):
    with pytest.raises(ScenarioError) as caught:
        parse(yaml.safe_dump({**GOOD, **change}), "f.yaml")
    assert str(caught.value).startswith(message)


def test_a_missing_key_is_named():
    call = {k: v for k, v in GOOD.items() if k != "call_type"}
    with pytest.raises(ScenarioError, match=r"^f\.yaml: call_type: missing$"):
        parse(yaml.safe_dump(call), "f.yaml")
    outreach = {**GOOD, "kind": "outreach", "request": {"patient_name": "A B"}}
    with pytest.raises(ScenarioError, match=r"^f\.yaml: request\.channel: missing$"):
        parse(yaml.safe_dump(outreach), "f.yaml")


def test_yaml_that_is_not_plain_data_is_refused():
    with pytest.raises(ScenarioError, match=r"^f\.yaml: "):
        parse("name: !!python/object:os.system x\n", "f.yaml")
    with pytest.raises(ScenarioError, match="a scenario is a mapping"):
        parse("- a\n- b\n", "f.yaml")


def test_a_file_that_cannot_be_read(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load(path)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_scenario_or_a_scenario_error(text):
    try:
        parse(text, "f.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("f.yaml: ")


values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                      | st.text(max_size=20), lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*TOP, "extra"]), values, max_size=6),
       st.dictionaries(st.sampled_from([*EXPECT, "odd"]), values, max_size=4))
def test_any_mapping_of_known_keys_is_a_scenario_or_a_scenario_error(top, expect):
    document = {**GOOD, **top}
    if isinstance(document.get("expect"), dict):
        document["expect"] = {**document["expect"], **expect}
    try:
        parse(yaml.safe_dump(document), "f.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("f.yaml: ")
