"""Protocol files: what is exported imports back to the same document, and every kind of
bad file is refused with the line to fix."""

from __future__ import annotations

import pytest

from clinicline.triage import yamlio
from clinicline.triage.service import default_document, default_source, parse
from clinicline.triage.spec import compile_protocol
from clinicline.triage.yamlio import ProtocolError

SMALL = """\
# A small protocol for these tests.
questions:
  - id: breathing
    text: Trouble breathing?
  - id: surgery
    text: Recent surgery?
    call_types: [clinical]
  - id: calf
    text: Calf swelling?
    ask_if: surgery
red_flags:
  - id: short-of-breath
    label: Short of breath
    phrases: [short of breath]
    patterns: ['{cant} breathe']
terms:
  cant: "can'?t|cannot"
rules:
  - id: breathing
    when: {any: [{question: breathing}, {red_flag: short-of-breath}]}
    then:
      priority: emergency
      actions: [advise-911, escalate-now]
      say: Dial 911.
  - id: dvt
    when: {question: calf}
    then:
      priority: urgent
      actions: [escalate-now]
      say: Paging the on-call provider.
"""


def line_of(text: str, marker: str, nth: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    return lines[nth - 1]


def refused(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse(text)
    return info.value


def test_the_small_protocol_is_valid():
    document, spec = parse(SMALL)
    assert [q.id for q in spec.questions] == ["breathing", "surgery", "calf"]
    assert spec.detector.findings(["he can't breathe"]) == {"short-of-breath"}
    assert spec.detector.findings(["Short  of breath"]) == {"short-of-breath"}


def test_the_default_exports_to_yaml_that_imports_to_the_same_document():
    document = default_document()
    exported = yamlio.dump(document)
    assert yamlio.load(exported).data == document
    assert compile_protocol(yamlio.load(exported), 1) == compile_protocol(document, 1)


def test_a_stored_source_imports_to_its_document():
    assert parse(default_source())[0] == default_document()


def test_export_round_trips_awkward_text():
    document = {"name": "yes", "questions": [{"id": "q1", "text": "Is it 'on'? # no: really",
                                              "call_types": ["no"]}],
                "red_flags": [], "rules": []}
    assert yamlio.load(yamlio.dump(document)).data == document


# (what is wrong, the text to replace, its replacement, a marker on the faulty line,
#  what the message says)
REFUSALS = [
    ("unknown question in a rule", "{question: calf}", "{question: calves}",
     "question: calves", "unknown question 'calves'"),
    ("unknown red flag in a rule", "{red_flag: short-of-breath}", "{red_flag: sob}",
     "red_flag: sob", "unknown red flag 'sob'"),
    ("unknown ask_if", "ask_if: surgery", "ask_if: operation", "ask_if: operation",
     "asked if unknown question 'operation'"),
    ("a question that follows itself", "ask_if: surgery", "ask_if: calf", "ask_if: calf",
     "cycle: calf → calf"),
    ("a bad priority", "priority: urgent", "priority: high", "priority: high",
     "priority 'high' must be one of routine, urgent, emergency"),
    ("a bad action", "actions: [escalate-now]", "actions: [page-everyone]", "page-everyone",
     "action 'page-everyone' must be one of"),
    ("an emergency that does not advise 911", "actions: [advise-911, escalate-now]",
     "actions: [escalate-now]", "actions: [escalate-now]", "must also advise-911"),
    ("a routine rule that escalates", "priority: urgent", "priority: routine",
     "actions: [escalate-now]", "may not escalate-now"),
    ("malformed YAML", "text: Recent surgery?", "text: Recent surgery: yes?",
     "Recent surgery: yes?", "not valid YAML"),
    ("a duplicate key", "    ask_if: surgery\n", "    ask_if: surgery\n    text: Again?\n",
     "text: Again?", "duplicate key 'text'"),
    ("a bad regular expression", "['{cant} breathe']", "['(unclosed']", "(unclosed",
     "is not a valid regular expression"),
    ("an unknown term", "['{cant} breathe']", "['{nope} breathe']", "{nope}",
     "unknown term {nope}"),
    ("a pattern that matches anything", "['{cant} breathe']", "['x*']", "'x*'",
     "matches empty text"),
    ("an unknown section", "terms:\n", "extras: 1\nterms:\n", "extras", "unknown section"),
    ("an unknown key", "    text: Calf swelling?\n", "    text: Calf swelling?\n    txet: x\n",
     "txet", "unknown key 'txet'"),
    ("a badly formed id", "id: calf", "id: Calf Swelling", "Calf Swelling",
     "must be lower-case"),
    ("an unknown kind of condition", "{question: calf}", "{answer: calf}", "answer: calf",
     "unknown condition 'answer'"),
    ("an alias", "      say: Dial 911.", "      say: &s Dial 911.\n      extra: *s", "*s",
     "aliases"),
    ("an empty list of conditions", "{question: calf}", "{any: []}", "{any: []}",
     "any needs at least one condition"),
    ("a Python tag", "say: Dial 911.", "say: !!python/name:os.system Dial 911.", "os.system",
     "the tag !!python/name:os.system is not allowed"),
    ("a custom tag", "when: {question: calf}", "when: !custom {question: calf}", "!custom",
     "the tag !custom is not allowed"),
    ("a timestamp tag", "say: Dial 911.", "say: !!timestamp 2001-02-30", "2001-02-30",
     "the tag !!timestamp is not allowed"),
    ("nesting 3,000 deep", "{question: calf}", "[" * 3000 + "]" * 3000, "[[[",
     "nested more than 32 deep"),
]


def assert_refused_at_its_line(base: str, old: str, new: str, marker: str, message: str):
    """Replacing ``old`` by ``new`` in ``base`` is refused with ``message``, on the line
    that holds ``marker``."""
    assert old in base
    text = base.replace(old, new, 1)
    error = refused(text)
    assert f"line {line_of(text, marker)}: " in str(error)
    assert message in str(error)


@pytest.mark.parametrize("what,old,new,marker,message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_bad_file_is_refused_naming_its_line(what, old, new, marker, message):
    assert_refused_at_its_line(SMALL, old, new, marker, message)


def test_a_date_on_no_calendar_is_the_text_it_is_written_as():
    _, spec = parse(SMALL.replace("text: Trouble breathing?", "text: 2001-02-30"))
    assert spec.questions[0].text == "2001-02-30"


def test_a_cycle_among_follow_ups_is_refused_at_its_first_question():
    text = SMALL.replace("    text: Recent surgery?\n",
                         "    text: Recent surgery?\n    ask_if: calf\n")
    error = refused(text)
    assert str(error) == (f"line {line_of(text, 'ask_if: calf')}: follow-up questions form "
                          "a cycle: surgery → calf → surgery")


DUPLICATES = [
    ("questions", "  - id: surgery", "  - id: breathing", "id: breathing", 1),
    ("red_flags", "terms:\n", "  - id: short-of-breath\n    label: Again\n"
     "    phrases: [winded]\nterms:\n", "id: short-of-breath", 1),
    ("rules", "  - id: dvt", "  - id: breathing", "id: breathing", 2),
]


@pytest.mark.parametrize("section,old,new,marker,earlier", DUPLICATES,
                         ids=[d[0] for d in DUPLICATES])
def test_a_duplicate_id_is_refused_at_the_second(section, old, new, marker, earlier):
    text = SMALL.replace(old, new, 1)
    first, second = line_of(text, marker, earlier), line_of(text, marker, earlier + 1)
    assert (f"line {second}: duplicate id '{marker.split(': ')[1]}' in {section} "
            f"(first on line {first})") in str(refused(text))


def test_every_problem_is_reported_at_once_in_line_order():
    text = SMALL.replace("priority: urgent", "priority: high").replace(
        "ask_if: surgery", "ask_if: operation")
    error = refused(text)
    assert [p.line for p in error.problems] == [line_of(text, "ask_if: operation"),
                                                line_of(text, "priority: high")]


def test_a_protocol_that_sends_nothing_to_911_is_refused():
    text = SMALL.replace("priority: emergency", "priority: urgent").replace(
        "actions: [advise-911, escalate-now]", "actions: [escalate-now]")
    assert str(refused(text)) == (f"line {line_of(text, 'rules:')}: a protocol needs at "
                                  "least one emergency rule")
    assert "at least one emergency rule" in str(refused("questions: []\n"))


@pytest.mark.parametrize("text,message", [
    ("", "the file is empty"),
    ("- just\n- a list\n", "line 1: a protocol is a mapping"),
    ("questions: [\n", "not valid YAML"),
    ("x" * (yamlio.MAX_CHARS + 1), "over 256 KB"),
])
def test_a_file_that_is_no_protocol_at_all_is_refused(text, message):
    assert message in str(refused(text))


# A red flag's words in another language: languages: {code: {phrases, patterns}}.
SPANISH_SMALL = SMALL.replace("    patterns: ['{cant} breathe']\n", """\
    patterns: ['{cant} breathe']
    languages:
      es:
        phrases: [le falta el aire]
        patterns: ['no (?:puede|podía) respirar']
""")


def test_a_language_block_is_read_without_accents():
    _, spec = parse(SPANISH_SMALL)
    assert spec.red_flags[0].languages == ("es",)
    assert spec.detector.findings(["no podia respirar"]) == {"short-of-breath"}
    assert spec.detector.findings(["Le falta el aire"]) == {"short-of-breath"}
    assert spec.detector.findings(["no le falta el aire"]) == frozenset()


@pytest.mark.parametrize("old,new,marker,message", [
    ("      es:\n", "      spanish:\n", "spanish:", "language 'spanish' must be a two-letter"),
    ("        phrases: [le falta el aire]\n", "        phrases: [le falta el aire]\n"
     "        spoken: [aire]\n", "spoken: [aire]", "unknown key 'spoken' in language 'es'"),
    ("respirar']", "respirar(']", "respirar(']", "is not a valid regular expression"),
    ("    languages:\n      es:\n        phrases: [le falta el aire]\n"
     "        patterns: ['no (?:puede|podía) respirar']\n", "    languages: [es]\n",
     "languages: [es]", "languages must be a mapping"),
])
def test_a_bad_language_block_is_refused_naming_its_line(old, new, marker, message):
    assert old in SPANISH_SMALL
    text = SPANISH_SMALL.replace(old, new, 1)
    error = refused(text)
    assert f"line {line_of(text, marker)}: " in str(error)
    assert message in str(error)
