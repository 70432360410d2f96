"""The one loader for uploaded YAML: plain data only, every refusal named by its line, and
nothing an upload holds (a tag, an impossible date, deep nesting) ends in a 500."""

from __future__ import annotations

import pytest

from clinicline import safe_yaml
from clinicline.safe_yaml import MAX_DEPTH, Problem, Refused

LIMIT = 64 * 1024


def refusal(text: str) -> list[Problem]:
    with pytest.raises(Refused) as info:
        safe_yaml.load(text, max_chars=LIMIT)
    return info.value.problems


@pytest.mark.parametrize("tag", ["!!python/name:os.system", "!!python/object/apply:os.system",
                                 "!custom", "!!timestamp", "!!binary", "!!set", "!!omap",
                                 "!<tag:example.com,2026:x>", "!"])
def test_a_tag_outside_the_core_schema_is_refused_by_name_and_line(tag):
    problems = refusal(f"name: Riverside\nsay: {tag} 2001-02-03\n")
    shown = "tag:example.com,2026:x" if tag.startswith("!<") else tag
    assert [p.line for p in problems] == [2]
    assert f"the tag {shown} is not allowed" in str(problems[0])


def test_core_tags_are_plain_data():
    assert safe_yaml.load("a: !!str 3\nb: !!int 4\nc: !!null ''\n", max_chars=LIMIT) == \
        {"a": "3", "b": 4, "c": None}


def test_a_core_tag_on_a_value_it_cannot_hold_is_refused_by_line():
    assert str(refusal("a: 1\nb: !!int abc\n")[0]).startswith("line 2: not valid YAML: "
                                                              "not a valid !!int")


@pytest.mark.parametrize("written", ["2001-02-30", "2001-02-03", "2001-02-03 10:00:00"])
def test_dates_stay_the_text_they_are_written_as(written):
    """2001-02-30 is on no calendar; read as a date it was a ValueError, and a 500."""
    assert safe_yaml.load(f"day: {written}\n", max_chars=LIMIT) == {"day": written}


def test_merge_keys_are_plain_keys():
    assert safe_yaml.load("<<: {a: 1}\n", max_chars=LIMIT) == {"<<": {"a": 1}}


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_nesting_is_capped_where_it_starts_to_be_too_deep(opening, closing):
    def nested(depth: int) -> str:
        if opening == "- ":  # block style: each level one line, indented further
            return "\n".join("  " * n + "- " for n in range(depth)) + "x\n"
        return opening * depth + "1" + closing * depth

    assert safe_yaml.load(nested(MAX_DEPTH), max_chars=LIMIT) is not None
    problems = refusal(nested(MAX_DEPTH + 1))
    assert problems[-1].message == f"nested more than {MAX_DEPTH} deep"
    deep = 200 if opening == "- " else 3000  # 3,000 indented lines are over the size limit
    assert refusal(nested(deep))[-1].message == f"nested more than {MAX_DEPTH} deep"


def test_anchors_aliases_and_duplicate_keys_are_refused_by_line():
    assert [str(p) for p in refusal("a: &x [1]\nb: *x\n")] == [
        "line 1: anchors and aliases (&, *) are not allowed",
        "line 2: anchors and aliases (&, *) are not allowed"]
    assert str(refusal("a: 1\nb: 2\na: 3\n")[0]) == "line 3: not valid YAML: duplicate key 'a'"
    assert str(refusal("? [1, 2]\n: x\n")[0]) == "line 1: not valid YAML: a key must be a " \
                                                 "plain word"


def test_size_malformed_text_and_a_second_document_are_refused():
    assert str(refusal("x" * (LIMIT + 1))[0]) == "the file is over 64 KB"
    assert str(refusal("a: [1,\n")[0]).startswith("line 2: not valid YAML")
    assert "line 2: not valid YAML" in str(refusal("--- 1\n--- 2\n")[0])


def test_an_empty_file_is_no_document():
    assert safe_yaml.load("", max_chars=LIMIT) is None
    assert safe_yaml.load("# only a comment\n", max_chars=LIMIT) is None
