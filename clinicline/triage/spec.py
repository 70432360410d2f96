"""A triage protocol as immutable data: questions, red flags, rules.

``compile_protocol`` turns a document (what a protocol YAML file holds) into a
``ProtocolSpec`` or refuses it with every problem and its line. The document format:

    terms:        {name: regex}        shared pieces of patterns, used as {name}
    questions:    - {id, text, call_types: [..] (omitted: every type), ask_if: question id}
    red_flags:    - {id, label, phrases: [plain words], patterns: [regex],
                     languages: {code: {phrases: [..], patterns: [..]}}, source}
    rules:        - {id, when: CONDITION, then: {priority, actions: [..], say}, source}
    default:      {actions: [..], say}  what to do when no rule fires (priority routine)

A CONDITION is one of:

    {question: id}                          the agent's question, answered yes
    {red_flag: id}                          the red flag, found (and not negated) in the text
    {call_type: type} / {call_type: [..]}   the call's type
    {reading: KIND, at_least: N}            a number read from the text (triage.readers):
    {reading: KIND, at_most: N}             some reading of KIND reaches N; both bounds in
    {reading: KIND, at_least: N, at_most: M}  one condition: one reading within N..M
    {risk: GROUP}                           the text puts the patient in a risk group
    {any: [CONDITION, ..]} / {all: [..]}

KIND is one of temperature_f (°F; a °C reading is converted), systolic, diastolic (mmHg),
glucose_mg_dl (mg/dL; mmol/L is converted), spo2 (%), age_days, pregnancy_weeks,
postpartum_days, duration_hours. GROUP is one of ``risks.GROUPS``: anticoagulant,
antiplatelet, insulin, anti-seizure, immunosuppressed, steroids, pregnant, postpartum,
recent-surgery, dialysis, sickle-cell. A reading is a range (callers are vague: "newborn"
is 0–28 days), and it reaches ``at_least`` by its top and ``at_most`` by its bottom, so an
uncertain reading fires the rule.

Conditions are only ever positive, so that more findings can only fire more rules: the
free-text detector and the readers can raise a priority, never lower it.

``source`` (optional on a rule or a red flag) names the public guidance it follows ("NHS:
Sepsis — call 999"), for the people who review the protocol; it changes no decision.

A red flag's own phrases and patterns are English; ``languages`` adds those of other
languages by code (``es``: Spanish). The detector reads them all in every text (a caller
may mix languages, and nobody says which one a text is in); the code only says, to
people and to the benchmarks, which words are which language. A protocol without
``languages`` reads as it always has.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clinicline.safe_yaml import Problem
from clinicline.triage.detector import Detector, compile_flag, fold, normalize
from clinicline.triage.readers import KINDS, Findings
from clinicline.triage.risks import GROUPS
from clinicline.triage.yamlio import Located, Path, ProtocolError


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Action(StrEnum):
    ADVISE_911 = "advise-911"
    # An emergency whose line is another number: Poison Control for an ingestion without
    # symptoms, 988 for a mental-health crisis. The on-call provider is still paged at once.
    ADVISE_POISON_CONTROL = "advise-poison-control"
    ADVISE_988 = "advise-988"
    ESCALATE_NOW = "escalate-now"
    NEXT_BUSINESS_DAY = "next-business-day"
    QUEUE = "queue"


# What each priority must (and must not) do: an emergency that forgot to escalate, or a
# "routine" rule that pages someone at 3 a.m., is a protocol error, not a choice. An
# emergency also tells the caller where to turn now: 911, or for an ingestion without
# symptoms Poison Control, or for a mental-health crisis 988 (at least one of ADVICE).
ADVICE = (Action.ADVISE_911, Action.ADVISE_POISON_CONTROL, Action.ADVISE_988)
REQUIRED = {Priority.EMERGENCY: {Action.ESCALATE_NOW},
            Priority.URGENT: {Action.ESCALATE_NOW}, Priority.ROUTINE: set()}
FORBIDDEN = {Priority.EMERGENCY: set(), Priority.URGENT: set(ADVICE),
             Priority.ROUTINE: {*ADVICE, Action.ESCALATE_NOW}}

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CALL_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TERM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TERM_USE = re.compile(r"\{([a-z][a-z0-9_]*)\}")  # {name}; never a {2,3} quantifier
LANGUAGE = re.compile(r"^[a-z]{2}$")  # ISO 639-1: es, fr, vi
SECTIONS = ("name", "terms", "questions", "red_flags", "rules", "default")
SPOKEN = re.compile(r"[a-z']+(?: [a-z']+){0,5}")
MAX_DEPTH = 4
DEFAULT_SAY = "I will pass your message to the office; someone will call you back."


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    call_types: tuple[str, ...] = ()  # empty: asked for every call type
    ask_if: str | None = None         # a follow-up, asked when that question is answered yes


@dataclass(frozen=True)
class RedFlag:
    id: str
    label: str
    patterns: tuple[str, ...]  # regular expressions, terms expanded
    # Plain words to listen for in voicemails (keyword spotting); what they mean is still
    # the detector's to judge, so a negated form ("no chest pain") may be listed too.
    spoken: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # the codes of other languages among the patterns
    source: str = ""                 # the public guidance it follows, for reviewers
    # An event (a stroke, a seizure), not a state (a transplant): a mention dated years
    # back ("had a stroke in 2018") is history, not a finding.
    current_only: bool = False


@dataclass(frozen=True)
class Facts:
    """What a decision knows: the call type, the questions answered yes, the red flags in
    the text (each with the words that said it) and what the readers found."""
    call_type: str | None
    yes: frozenset[str]
    flags: Mapping[str, str]  # red flag id → the caller's words
    found: Findings = Findings()


@dataclass(frozen=True)
class Condition:
    kind: str                      # question | red_flag | call_type | reading | risk | any | all
    values: tuple[str, ...] = ()
    children: tuple[Condition, ...] = ()
    at_least: float | None = None  # for a reading
    at_most: float | None = None

    def holds(self, facts: Facts) -> bool:
        if self.kind == "any":
            return any(c.holds(facts) for c in self.children)
        if self.kind == "all":
            return all(c.holds(facts) for c in self.children)
        if self.kind == "reading":
            return facts.found.reaching(self.values[0], self.at_least, self.at_most) is not None
        if self.kind == "risk":
            return facts.found.risk(self.values[0]) is not None
        found = {"question": facts.yes, "red_flag": facts.flags}.get(self.kind,
                                                                    {facts.call_type})
        return any(value in found for value in self.values)

    def evidence(self, facts: Facts) -> list[str]:
        """Why it holds, in words a nurse reads ('"can't breathe"', "age 6 weeks"); empty
        when it does not hold."""
        if self.kind in ("any", "all"):
            parts = [c.evidence(facts) for c in self.children]
            if self.kind == "all" and not all(parts):
                return []
            return list(dict.fromkeys(e for part in parts for e in part))
        if not self.holds(facts):
            return []
        if self.kind == "reading":
            reading = facts.found.reaching(self.values[0], self.at_least, self.at_most)
            return [reading.describe()] if reading else []
        if self.kind == "risk":
            risk = facts.found.risk(self.values[0])
            return [risk.describe()] if risk else []
        if self.kind == "red_flag":
            return [f'"{facts.flags[v]}"' for v in self.values if v in facts.flags]
        if self.kind == "question":
            return [f"answered yes: {v}" for v in self.values if v in facts.yes]
        return [f"call type {facts.call_type}"]

    def describe(self) -> str:
        """For people: "any of (answered yes: chest_pain; text mentions: chest-pain)"."""
        if self.kind in ("any", "all"):
            parts = [c.describe() for c in self.children]
            return parts[0] if len(parts) == 1 else f"{self.kind} of ({'; '.join(parts)})"
        if self.kind == "reading":
            unit = KINDS[self.values[0]][0]
            bounds = [f"{op} {n:g} {unit}" for op, n in (("≥", self.at_least),
                                                        ("≤", self.at_most)) if n is not None]
            return f"reading: {self.values[0]} {' and '.join(bounds)}"
        label = {"question": "answered yes", "red_flag": "text mentions",
                 "risk": "risk group"}.get(self.kind, "call type")
        return f"{label}: {' or '.join(self.values)}"


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition
    priority: Priority
    actions: tuple[Action, ...]
    say: str
    source: str = ""  # the public guidance it follows, for reviewers


@dataclass(frozen=True)
class ProtocolSpec:
    version: int
    name: str
    questions: tuple[Question, ...]
    red_flags: tuple[RedFlag, ...]
    rules: tuple[Rule, ...]
    default_actions: tuple[Action, ...] = (Action.QUEUE,)
    default_say: str = DEFAULT_SAY
    detector: Detector = field(default_factory=Detector, compare=False, repr=False)
    reads: bool = False  # whether any rule needs the readers (older protocols do not)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def rules_that_may_hold(self, call_type: str | None, yes: frozenset[str],
                            flags: frozenset[str]) -> list[Rule]:
        """The rules, in protocol order, whose condition can hold given what was found: a
        condition is positive, so one with no answer, red flag or call type of its own
        present cannot. Most texts fire few of many rules; this spares testing the rest."""
        index, always = self._rules_by_atom
        present = {("red_flag", f) for f in flags} | {("question", q) for q in yes}
        present.add(("call_type", str(call_type)))
        found = set(always).union(*(index.get(atom, ()) for atom in present))
        return [self.rules[i] for i in sorted(found)]

    @functools.cached_property
    def _rules_by_atom(self) -> tuple[dict[tuple[str, str], tuple[int, ...]], tuple[int, ...]]:
        index: dict[tuple[str, str], list[int]] = {}
        always = []
        for i, rule in enumerate(self.rules):
            atoms = _atoms(rule.when)
            if atoms is None:
                always.append(i)
            for atom in atoms or ():
                index.setdefault(atom, []).append(i)
        return {a: tuple(r) for a, r in index.items()}, tuple(always)

    @property
    def spoken_phrases(self) -> tuple[str, ...]:
        """Every red flag's spoken phrases, once each, in the protocol's order."""
        return tuple(dict.fromkeys(p for flag in self.red_flags for p in flag.spoken))


def _atoms(condition: Condition) -> frozenset[tuple[str, str]] | None:
    """Answers, red flags and call types of which at least one must be present for
    ``condition`` to hold; None when that is not known (a kind read otherwise)."""
    if condition.kind in ("question", "red_flag", "call_type"):
        return frozenset((condition.kind, v) for v in condition.values)
    parts = [_atoms(c) for c in condition.children]
    if condition.kind == "all":  # every part must hold: the atoms of any known one will do
        return min((p for p in parts if p is not None), key=len, default=None)
    if condition.kind == "any" and None not in parts:
        return frozenset().union(*(p for p in parts if p is not None))
    return None


def compile_protocol(document: Mapping[str, Any] | Located, version: int = 0) -> ProtocolSpec:
    """Validate and compile; raises ProtocolError naming each problem's line."""
    located = document if isinstance(document, Located) else Located(document)
    check = _Checker(located)
    spec = check.protocol(version)
    if check.problems or spec is None:
        raise ProtocolError(check.problems or [Problem(None, "not a protocol")])
    return spec


class _Checker:
    """Collects every problem in one pass, so an admin fixes a file in one round."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.problems: list[Problem] = []

    def fail(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.located.line(path), message))

    def protocol(self, version: int) -> ProtocolSpec | None:
        doc = self.located.data
        if not isinstance(doc, dict):
            self.fail((), "a protocol is a mapping with questions, red_flags and rules")
            return None
        for key in doc:
            if key not in SECTIONS:
                self.fail((key,), f"unknown section {key!r} (expected one of "
                                  f"{', '.join(SECTIONS)})")
        terms = self.terms(doc.get("terms", {}))
        questions = self.questions(doc.get("questions", []))
        flags = self.red_flags(doc.get("red_flags", []), terms)
        rules = self.rules(doc.get("rules", []), {q.id for q in questions},
                           {f.id for f in flags})
        if not any(r.priority == Priority.EMERGENCY for r in rules) and not self.problems:
            # A file that lost its rules would quietly make every call routine.
            self.fail(("rules",), "a protocol needs at least one emergency rule")
        actions, say = self.default(doc.get("default", {}))
        name = doc.get("name", "")
        if not isinstance(name, str):
            self.fail(("name",), "name must be text")
        if self.problems:
            return None
        return ProtocolSpec(version, str(name), questions, flags, rules, actions, say,
                            Detector(tuple(compile_flag(f.id, f.patterns, f.current_only)
                                           for f in flags)),
                            any(_reads(r.when) for r in rules))

    # --- pieces -------------------------------------------------------------------------

    def text(self, path: Path, value: Any, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"{what} must be non-empty text")
            return ""
        return value.strip()

    def listing(self, path: Path, value: Any, what: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"{what} must be a list")
            return []
        return value

    def entries(self, section: str, value: Any,
                keys: set[str]) -> Iterator[tuple[Path, dict[str, Any], str]]:
        """Each well-formed entry of a section with an id, refusing duplicate ids."""
        seen: dict[str, int] = {}
        for i, entry in enumerate(self.listing((section,), value, section)):
            path: Path = (section, i)
            if not isinstance(entry, dict):
                self.fail(path, f"each entry of {section} must be a mapping with an id")
                continue
            for key in entry.keys() - keys:
                self.fail((*path, key), f"unknown key {key!r} in {section}")
            entry_id = entry.get("id")
            if not isinstance(entry_id, str) or not ID.match(entry_id):
                self.fail((*path, "id"), f"id {entry_id!r} must be lower-case letters, "
                                         "digits, '-' or '_'")
                continue
            if entry_id in seen:
                self.fail((*path, "id"), f"duplicate id {entry_id!r} in {section} (first "
                                         f"on line {seen[entry_id]})")
                continue
            seen[entry_id] = self.located.line((*path, "id")) or 0
            yield path, entry, entry_id

    def terms(self, value: Any) -> dict[str, str]:
        """name: regex, or name: [alternatives] (a list keeps long word lists readable)."""
        if not isinstance(value, dict):
            self.fail(("terms",), "terms must be a mapping of name: regex")
            return {}
        terms = {}
        for name, raw in value.items():
            path: Path = ("terms", name)
            parts = raw if isinstance(raw, list) else [raw]
            if not TERM_NAME.match(name):
                self.fail(path, f"term name {name!r} must be lower-case letters and '_'")
            elif not parts or not all(self.text(path, p, f"term {name!r}") for p in parts):
                continue
            elif any(TERM_USE.search(p) for p in parts):
                self.fail(path, f"term {name!r} refers to another term; spell it out")
            else:
                terms[name] = "|".join(p.strip() for p in parts)
        return terms

    def call_types(self, path: Path, value: Any) -> tuple[str, ...]:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, str) or not CALL_TYPE.match(v):
                self.fail(path, f"call type {v!r} must be a slug such as 'clinical'")
                return ()
        return tuple(values)

    def questions(self, value: Any) -> tuple[Question, ...]:
        found = []
        for path, entry, qid in self.entries("questions", value,
                                             {"id", "text", "call_types", "ask_if"}):
            text = self.text((*path, "text"), entry.get("text"), f"question {qid!r} text")
            types = self.call_types((*path, "call_types"), entry.get("call_types", []))
            ask_if = entry.get("ask_if")
            if ask_if is not None and not isinstance(ask_if, str):
                self.fail((*path, "ask_if"), "ask_if must be a question id")
                ask_if = None
            found.append((path, Question(qid, text, types, ask_if)))
        self.follow_ups(found)
        return tuple(q for _, q in found)

    def follow_ups(self, found: list[tuple[Path, Question]]) -> None:
        parent = {q.id: q.ask_if for _, q in found}
        reported: set[str] = set()
        for path, q in found:
            if q.ask_if is not None and q.ask_if not in parent:
                self.fail((*path, "ask_if"), f"question {q.id!r} is asked if unknown "
                                             f"question {q.ask_if!r}")
                continue
            chain = [q.id]
            while (nxt := parent.get(chain[-1])) is not None and nxt not in chain:
                chain.append(nxt)
            if nxt == q.id and q.id not in reported:
                reported.update(chain)
                self.fail((*path, "ask_if"), "follow-up questions form a cycle: "
                                             + " → ".join([*chain, q.id]))

    def red_flags(self, value: Any, terms: dict[str, str]) -> tuple[RedFlag, ...]:
        flags = []
        for path, entry, fid in self.entries("red_flags", value, {"id", "label", "phrases",
                                                                  "patterns", "spoken",
                                                                  "languages", "source",
                                                                  "current_only"}):
            label = self.text((*path, "label"), entry.get("label"), f"red flag {fid!r} label")
            patterns = self.wording(path, entry, terms)
            languages = self.languages((*path, "languages"), entry.get("languages", {}))
            for code, wording in languages.items():
                patterns += self.wording((*path, "languages", code), wording, terms)
            if not patterns:
                self.fail(path, f"red flag {fid!r} needs phrases or patterns")
            current_only = entry.get("current_only", False)
            if not isinstance(current_only, bool):
                self.fail((*path, "current_only"), "current_only must be true or false")
            flags.append(RedFlag(fid, label, tuple(patterns),
                                 self.spoken(path, entry.get("spoken", [])),
                                 tuple(languages),
                                 self.source(path, entry, f"red flag {fid!r}"),
                                 current_only is True))
        return tuple(flags)

    def wording(self, path: Path, entry: dict[str, Any], terms: dict[str, str]) -> list[str]:
        """The patterns of one language of a red flag: its phrases, then its patterns."""
        return [*self.phrases(path, entry.get("phrases", [])),
                *self.patterns(path, entry.get("patterns", []), terms)]

    def languages(self, path: Path, value: Any) -> dict[str, dict[str, Any]]:
        """code: {phrases, patterns}, each well formed."""
        if not isinstance(value, dict):
            self.fail(path, "languages must be a mapping of code: {phrases, patterns}")
            return {}
        found = {}
        for code, wording in value.items():
            where: Path = (*path, code)
            if not LANGUAGE.match(str(code)):
                self.fail(where, f"language {code!r} must be a two-letter code such as 'es'")
            elif not isinstance(wording, dict) or not wording:
                self.fail(where, f"language {code!r} needs phrases or patterns")
            elif unknown := wording.keys() - {"phrases", "patterns"}:
                self.fail((*where, sorted(unknown)[0]),
                          f"unknown key {sorted(unknown)[0]!r} in language {code!r}")
            else:
                found[str(code)] = wording
        return found

    def spoken(self, path: Path, value: Any) -> tuple[str, ...]:
        out = []
        for i, phrase in enumerate(self.listing((*path, "spoken"), value, "spoken")):
            where: Path = (*path, "spoken", i)
            if not isinstance(phrase, str) or not SPOKEN.fullmatch(phrase):
                self.fail(where, "a spoken phrase is one to six lower-case words (letters and "
                                 "apostrophes)")
                continue
            out.append(phrase)
        return tuple(out)

    def phrases(self, path: Path, value: Any) -> list[str]:
        out = []
        for i, phrase in enumerate(self.listing((*path, "phrases"), value, "phrases")):
            if self.text((*path, "phrases", i), phrase, "a phrase"):
                out.append(phrase_pattern(phrase))
        return out

    def patterns(self, path: Path, value: Any, terms: dict[str, str]) -> list[str]:
        out = []
        for i, raw in enumerate(self.listing((*path, "patterns"), value, "patterns")):
            where: Path = (*path, "patterns", i)
            if not self.text(where, raw, "a pattern"):
                continue
            unknown = [n for n in TERM_USE.findall(raw) if n not in terms]
            if unknown:
                self.fail(where, f"pattern uses unknown term {{{unknown[0]}}}")
                continue
            # Folded as the text is: a pattern may be written "respiración".
            regex = fold(TERM_USE.sub(lambda m: f"(?:{terms[m[1]]})", raw))
            if (problem := pattern_problem(regex)) is not None:
                self.fail(where, f"pattern {raw!r} {problem}")
                continue
            out.append(regex)
        return out

    def rules(self, value: Any, questions: set[str], flags: set[str]) -> tuple[Rule, ...]:
        rules = []
        for path, entry, rid in self.entries("rules", value, {"id", "when", "then", "source"}):
            when = self.condition((*path, "when"), entry.get("when"), questions, flags, 0)
            then = entry.get("then")
            if not isinstance(then, dict):
                self.fail((*path, "then"), f"rule {rid!r} needs then: priority, actions, say")
                continue
            outcome = self.outcome((*path, "then"), then, rid)
            source = self.source(path, entry, f"rule {rid!r}")
            if when is not None and outcome is not None:
                rules.append(Rule(rid, when, *outcome, source=source))
        return tuple(rules)

    def source(self, path: Path, entry: dict[str, Any], whose: str) -> str:
        """The public guidance a rule or red flag follows: optional, and text when given."""
        if "source" not in entry:
            return ""
        return self.text((*path, "source"), entry["source"], f"{whose} source")

    def condition(self, path: Path, value: Any, questions: set[str], flags: set[str],
                  depth: int) -> Condition | None:
        if isinstance(value, dict) and "reading" in value:
            return self.reading(path, value)
        if not isinstance(value, dict) or len(value) != 1:
            self.fail(path, "a condition is one of {question: id}, {red_flag: id}, "
                            "{call_type: type}, {reading: kind, at_least: n}, {risk: group}, "
                            "{any: [..]}, {all: [..]}")
            return None
        (kind, arg), = value.items()
        where: Path = (*path, kind)
        if kind == "risk":
            if arg in GROUPS:
                return Condition(kind, (arg,))
            self.fail(where, f"unknown risk group {arg!r} (expected one of "
                             f"{', '.join(GROUPS)})")
            return None
        if kind in ("any", "all"):
            return self.group(where, kind, arg, questions, flags, depth)
        if kind == "call_type":
            types = self.call_types(where, arg)
            return Condition(kind, types) if types else None
        known = {"question": questions, "red_flag": flags}.get(kind)
        if known is None:
            self.fail(where, f"unknown condition {kind!r}")
        elif not isinstance(arg, str) or arg not in known:
            self.fail(where, f"unknown {kind.replace('_', ' ')} {arg!r}")
        else:
            return Condition(kind, (arg,))
        return None

    def reading(self, path: Path, value: dict[str, Any]) -> Condition | None:
        """{reading: kind, at_least: n} and/or at_most: m, each bound a number in range."""
        kind, ok = value["reading"], True
        for key in value.keys() - {"reading", "at_least", "at_most"}:
            self.fail((*path, key), f"unknown key {key!r} in a reading condition")
            ok = False
        if kind not in KINDS:
            self.fail((*path, "reading"), f"unknown reading {kind!r} (expected one of "
                                          f"{', '.join(KINDS)})")
            return None
        unit, low, high = KINDS[kind]
        bounds: dict[str, float] = {}
        for key in ("at_least", "at_most"):
            n = value.get(key)
            if key not in value:
                continue
            if isinstance(n, bool) or not isinstance(n, int | float):
                self.fail((*path, key), f"{key} must be a number ({kind} is in {unit})")
            elif not low <= n <= high:
                self.fail((*path, key), f"{key} {n} is outside {low:g}–{high:g} {unit}, "
                                        f"where {kind} is read")
            else:
                bounds[key] = float(n)
        if not {"at_least", "at_most"} & value.keys():
            self.fail((*path, "reading"), f"a reading condition needs at_least or at_most "
                                          f"({kind} is in {unit})")
            return None
        if bounds.get("at_least", low) > bounds.get("at_most", high):
            self.fail((*path, "at_most"), "at_most is below at_least: no reading is both")
            return None
        if not ok or len(bounds) != len({"at_least", "at_most"} & value.keys()):
            return None
        return Condition("reading", (kind,), at_least=bounds.get("at_least"),
                         at_most=bounds.get("at_most"))

    def group(self, path: Path, kind: str, arg: Any, questions: set[str], flags: set[str],
              depth: int) -> Condition | None:
        if depth >= MAX_DEPTH:
            self.fail(path, f"conditions nest more than {MAX_DEPTH} deep")
            return None
        items = self.listing(path, arg, kind)
        if not items:
            self.fail(path, f"{kind} needs at least one condition")
        children = [self.condition((*path, i), c, questions, flags, depth + 1)
                    for i, c in enumerate(items)]
        if not items or None in children:
            return None
        return Condition(kind, children=tuple(c for c in children if c is not None))

    def outcome(self, path: Path, then: dict[str, Any],
                rid: str) -> tuple[Priority, tuple[Action, ...], str] | None:
        for key in then.keys() - {"priority", "actions", "say"}:
            self.fail((*path, key), f"unknown key {key!r} in then")
        raw = then.get("priority")
        if raw not in set(Priority):
            self.fail((*path, "priority"), f"priority {raw!r} must be one of "
                                           f"{', '.join(Priority)}")
            return None
        priority = Priority(raw)
        actions = self.actions((*path, "actions"), then.get("actions"))
        say = self.text((*path, "say"), then.get("say"), f"rule {rid!r} say")
        if actions is None or not say:
            return None
        if missing := REQUIRED[priority] - set(actions):
            self.fail((*path, "actions"), f"an {priority} rule must also "
                                          f"{', '.join(sorted(missing))}")
        if priority == Priority.EMERGENCY and not set(ADVICE) & set(actions):
            self.fail((*path, "actions"), f"an {priority} rule must also advise-911 (or, "
                                          "for its own line, advise-poison-control or "
                                          "advise-988)")
        if extra := FORBIDDEN[priority] & set(actions):
            self.fail((*path, "actions"), f"a {priority} rule may not "
                                          f"{', '.join(sorted(extra))}")
        return priority, actions, say

    def actions(self, path: Path, value: Any) -> tuple[Action, ...] | None:
        items = self.listing(path, value, "actions")
        bad = [a for a in items if a not in set(Action)]
        if bad or not items:
            self.fail(path, f"action {bad[0] if bad else None!r} must be one of "
                            f"{', '.join(Action)}")
            return None
        return tuple(dict.fromkeys(Action(a) for a in items))

    def default(self, value: Any) -> tuple[tuple[Action, ...], str]:
        if not isinstance(value, dict):
            self.fail(("default",), "default must be a mapping with actions and say")
            return (Action.QUEUE,), DEFAULT_SAY
        for key in value.keys() - {"actions", "say"}:
            self.fail(("default", key), f"unknown key {key!r} in default")
        actions = self.actions(("default", "actions"), value.get("actions", ["queue"]))
        if actions and (FORBIDDEN[Priority.ROUTINE] & set(actions)):
            self.fail(("default", "actions"), "the default is routine: it may not escalate")
        say = value.get("say", DEFAULT_SAY)
        return actions or (Action.QUEUE,), self.text(("default", "say"), say, "default say")


def _reads(condition: Condition) -> bool:
    return condition.kind in ("reading", "risk") or any(_reads(c) for c in condition.children)


def phrase_pattern(phrase: str) -> str:
    """A plain phrase as a pattern: its words in order, any case, whole words only (cleaned
    as the text is, so "one-sided" in a phrase matches "one-sided" in a message)."""
    return re.escape(normalize(phrase).strip()).replace(r"\ ", " ")


def pattern_problem(regex: str) -> str | None:
    try:
        compiled = re.compile(regex, re.IGNORECASE)
    except re.error as exc:
        return f"is not a valid regular expression ({exc.msg})"
    if compiled.search("") is not None:
        return "matches empty text, so it would flag everything"
    return None
