"""The practice's words: what the console shows its agents and the IVR says to callers, as
a versioned document in English and Spanish (``ScriptSet``).

A document is::

    languages: [en, es]          # English always; every key in each listed language
    scripts:
      greeting_after_hours:
        en: "Thank you for calling {practice}, this is the answering service."
        es: "Gracias por llamar a {practice}; le atiende el servicio de contestación."
      ...
    labels:                       # optional: call-type labels in the other languages
      es: {refill: "resurtir una receta"}

Each key is one moment of a call (``KEYS``), and may use only the slots that moment has
(``{practice}``, ``{callback_minutes}``, ...): the slots are closed and typed, so a
document that names another, or a slot a moment cannot fill, is refused at save with its
line. The emergency line's meaning may not be removed: every language's version must
still send the caller to 911. A moment the file does not name at all (one added to
clinicline after the file was downloaded) takes the shipped words.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinicline import phiguard, safe_yaml
from clinicline.safe_yaml import Located, Problem

DEFAULT_SCRIPTS = Path(__file__).with_name("default_scripts.yaml")
MAX_CHARS = 64 * 1024
MAX_TEXT = 600  # a few sentences: what an agent reads out, or a caller listens to
ENGLISH = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str      # in its own words, as a caller picks it
    voice: str     # the IVR's speech language (Twilio's ``language`` on ``Say``)


LANGUAGES = {"en": Language("en", "English", "en-US"),
             "es": Language("es", "Español", "es-US")}

# The slots, closed: each is a value clinicline fills, never the caller's words.
SLOTS = {
    "practice": "the practice's name",
    "provider": "the on-call provider's name",
    "callback_minutes": "the minutes within which the on-call provider calls back",
    "next_opening": "when the office next opens (day and time)",
    "digits": "a key to press, or the last four digits of the callback number",
    "call_type": "a call type's label",
    "holiday": "the holiday the office is closed for",
}


@dataclass(frozen=True)
class Key:
    slots: frozenset[str]
    where: str  # where the words are used, for the editor


def _key(where: str, *slots: str) -> Key:
    return Key(frozenset(slots), where)


KEYS: dict[str, Key] = {
    # The console and the IVR.
    "greeting_open": _key("greeting while the office is open", "practice"),
    "greeting_after_hours": _key("greeting after hours", "practice"),
    "greeting_holiday": _key("greeting on a holiday", "practice", "holiday"),
    "emergency": _key("the emergency line, after every greeting (must send callers to 911)"),
    # The IVR.
    "language_offer": _key("IVR: how a caller picks this language (said in it)", "digits"),
    "menu_urgent": _key("IVR menu: the urgent line", "digits"),
    "menu_item": _key("IVR menu: one call type", "call_type", "digits"),
    "menu_not_a_choice": _key("IVR: a key that is not on the menu"),
    "menu_no_choice": _key("IVR: no key pressed"),
    "menu_gave_up": _key("IVR: no choice after the last try"),
    "front_desk_hold": _key("IVR: forwarding to the front desk"),
    "front_desk_unavailable": _key("IVR: the front desk did not answer"),
    "callback_prompt": _key("IVR urgent line: asking for the callback number"),
    "callback_invalid": _key("IVR urgent line: a number that is not complete"),
    "urgent_prompt": _key("IVR urgent line: before the recording"),
    "voicemail_greeting": _key("IVR voicemail: before the recording", "call_type"),
    "no_recording": _key("IVR voicemail: nothing was recorded"),
    "message_sent": _key("IVR voicemail: after the recording"),
    "transfer_hold": _key("IVR urgent line: connecting the caller to the provider on call"),
    "transfer_failed": _key("IVR urgent line: the provider on call was not reached"),
    # Read-backs: the console after saving, and the IVR's urgent line.
    "read_back_paged": _key("read-back: the on-call provider was paged", "callback_minutes",
                            "provider"),
    "read_back_urgent": _key("read-back: urgent, but nobody could be paged"),
    "read_back_open": _key("read-back: the office is open"),
    "read_back_next_opening": _key("read-back: after hours", "next_opening"),
    "read_back_reopens": _key("read-back: after hours, no opening hours set"),
    "read_back_number": _key("read-back: the callback number", "digits"),
    "return_call_refusal": _key("console: a caller who cannot be verified"),
    # Where an emergency caller is told to turn now, as the protocol's action says: the
    # console, the text reply and the text after a voicemail all use these words.
    "advice_911": _key("emergency advice: 911 (the protocol's advise-911)"),
    "advice_poison_control": _key("emergency advice: Poison Control, 1-800-222-1222, for an "
                                  "ingestion without symptoms (advise-poison-control)"),
    "advice_988": _key("emergency advice: 988, for a mental-health crisis (advise-988)"),
    "closing": _key("the last words of a call"),
}
TOP_KEYS = ("languages", "scripts", "labels")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# "911" however it is written out: 911, 9 1 1, 9-1-1, 9.1.1
NINE_ONE_ONE = re.compile(r"(?<!\d)9[\s.-]?1[\s.-]?1(?!\d)")
# The other public lines, however they are written out: 1-800-222-1222; 988.
POISON_CONTROL = re.compile(r"(?<!\d)(?:1[\s.-]?)?\(?800\)?[\s.-]?222[\s.-]?1222(?!\d)")
NINE_EIGHT_EIGHT = re.compile(r"(?<!\d)9[\s.-]?8[\s.-]?8(?!\d)")
# Which words each of the protocol's advice actions says, and what they must keep.
ADVICE = {"advise-911": "advice_911", "advise-poison-control": "advice_poison_control",
          "advise-988": "advice_988"}
_MUST_SAY = {"emergency": (NINE_ONE_ONE, "911"), "advice_911": (NINE_ONE_ONE, "911"),
             "advice_poison_control": (POISON_CONTROL, "Poison Control's number, "
                                                       "1-800-222-1222"),
             "advice_988": (NINE_EIGHT_EIGHT, "988")}
DIGIT_RUN = re.compile(r"\d{3,}")


class ScriptError(safe_yaml.Refused):
    """A scripts document that may not be used; each problem names its line."""


# --- reading and checking ---------------------------------------------------------------------

@functools.cache
def default_source() -> str:
    return DEFAULT_SCRIPTS.read_text(encoding="utf-8")


@functools.cache
def default_document() -> dict[str, Any]:
    return parse(default_source())


def parse(text: str) -> dict[str, Any]:
    """Read a YAML (or JSON) scripts document and check it; raises ``ScriptError`` naming
    the line of every problem."""
    try:
        located = safe_yaml.locate(text, max_chars=MAX_CHARS)
    except safe_yaml.Refused as exc:
        raise ScriptError(exc.problems) from None
    return check(located)


def check(located: Located) -> dict[str, Any]:
    """The document as stored (plain data), or ``ScriptError``."""
    data, problems = located.data, []

    def problem(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(located.line(path), message))

    if not isinstance(data, dict):
        raise ScriptError([Problem(1, "a scripts document is a mapping with languages and "
                                      "scripts")])
    for top in sorted(set(map(str, data)) - set(TOP_KEYS)):
        problem((top,), f"unknown section {top!r} (the sections are {', '.join(TOP_KEYS)})")
    languages = _languages(data.get("languages", [ENGLISH]), problem)
    scripts = data.get("scripts")
    if not isinstance(scripts, dict):
        problem(("scripts",), "scripts must be a mapping of each moment to its words")
        raise ScriptError(problems)
    for name in sorted(set(map(str, scripts)) - set(KEYS)):
        problem(("scripts", name), f"unknown script {name!r}")
    document: dict[str, Any] = {"languages": languages, "scripts": {}, "labels": {}}
    for name in KEYS:
        # A moment the file does not name (one added since it was downloaded) says the
        # shipped words: a file saved before the live transfer existed still uploads.
        value = scripts[name] if name in scripts else {
            code: words for code, words in default_document()["scripts"][name].items()
            if code in languages}
        document["scripts"][name] = _texts(value, name, languages, problem)
    document["labels"] = _labels(data.get("labels", {}), languages, problem)
    if problems:
        raise ScriptError(problems)
    return document


def _languages(value: Any, problem: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problem(("languages",), "languages must be a list such as [en, es]")
        return [ENGLISH]
    unknown = [v for v in value if v not in LANGUAGES]
    if unknown:
        problem(("languages",), f"unknown language(s) {', '.join(unknown)} (clinicline "
                                f"speaks {', '.join(LANGUAGES)})")
    if ENGLISH not in value:
        problem(("languages",), "English (en) is always one of the languages")
    return [code for code in LANGUAGES if code in value or code == ENGLISH]


def _texts(value: Any, name: str, languages: list[str], problem: Any) -> dict[str, str]:
    path = ("scripts", name)
    if not isinstance(value, dict):
        problem(path, f"{name}: missing (give its words in {', '.join(languages)})")
        return {}
    texts: dict[str, str] = {}
    for code in sorted(set(map(str, value)) - set(languages)):
        problem((*path, code), f"{name}: {code!r} is not one of the document's languages")
    for code in languages:
        text = value.get(code)
        if not isinstance(text, str) or not text.strip():
            problem((*path, code) if code in value else path,
                    f"{name}: the {LANGUAGES[code].name} words are missing")
            continue
        text = " ".join(text.split())
        for message in text_problems(name, text):
            problem((*path, code), f"{name} ({code}): {message}")
        texts[code] = text
    return texts


def advice_keys(actions: Iterable[str]) -> list[str]:
    """The scripts that say a decision's advice actions, in the protocol's order."""
    given = set(map(str, actions))
    return [key for action, key in ADVICE.items() if action in given]


def text_problems(name: str, text: str) -> list[str]:
    """What is wrong with ``text`` as the words for ``name``: its length, a slot it may not
    use, an emergency line that no longer sends callers to 911."""
    key, problems = KEYS[name], []
    if len(text) > MAX_TEXT:
        problems.append(f"at most {MAX_TEXT} characters (this is {len(text)})")
    try:
        used = slots_in(text)
    except ValueError as exc:
        return [*problems, str(exc)]
    for slot in sorted(used - key.slots):
        if slot in SLOTS:
            allowed = ", ".join("{" + s + "}" for s in sorted(key.slots)) or "none"
            problems.append(f"{{{slot}}} cannot be filled here (this one may use {allowed})")
        else:
            problems.append(f"unknown slot {{{slot}}} (the slots are "
                            f"{', '.join('{' + s + '}' for s in SLOTS)})")
    if name in ADVICE.values() and not (verdict := phiguard.check(text)).allowed:
        # The advice is also texted: words the guard would withhold would leave an
        # emergency caller untold.
        problems.append("the advice is also sent by text, and the PHI guard would withhold "
                        f"it (it finds: {', '.join(verdict.types)}); use plain words")
    if name in _MUST_SAY and not _MUST_SAY[name][0].search(text):
        problems.append("the emergency line must still tell callers to dial 911; you may "
                        "reword it, not remove it" if name == "emergency" else
                        f"this advice must still give callers {_MUST_SAY[name][1]}; you "
                        "may reword it, not remove it")
    return problems


def slots_in(text: str) -> set[str]:
    """The slot names ``text`` uses; ``ValueError`` for braces that are not a plain slot
    (``{practice.name}``, ``{0}``, ``{x!r}``, a lone ``{``)."""
    found = set()
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if spec or conversion or not re.fullmatch(r"[a-z_]+", field):
            raise ValueError(f"{{{field}}} is not a slot: write a slot's name in braces, "
                             "like {practice}")
        found.add(field)
    return found


def _labels(value: Any, languages: list[str], problem: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        problem(("labels",), "labels must map a language to call-type labels")
        return {}
    labels: dict[str, dict[str, str]] = {}
    for code, table in value.items():
        if code not in languages or code == ENGLISH:
            problem(("labels", code), f"labels: {code!r} is not one of the document's other "
                                      "languages (English labels are the call types' own)")
            continue
        if not isinstance(table, dict) or not all(
                isinstance(k, str) and SLUG.match(k) and isinstance(v, str) and v.strip()
                and "{" not in v for k, v in table.items()):
            problem(("labels", code), f"labels: {code} must map call-type slugs to labels")
            continue
        labels[code] = {k: " ".join(v.split()) for k, v in table.items()}
    return labels


def dump(document: Mapping[str, Any]) -> str:
    return safe_yaml.dump(document)


# --- saying it --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scripts:
    """One version of a practice's scripts, in one language (English where the document
    has no words in it)."""

    document: Mapping[str, Any]
    version: int
    language: str = ENGLISH

    def in_language(self, code: str) -> Scripts:
        return Scripts(self.document, self.version, self.speaks(code))

    def speaks(self, code: str) -> str:
        return code if code in self.document["languages"] else ENGLISH

    @property
    def languages(self) -> list[Language]:
        return [LANGUAGES[code] for code in self.document["languages"]]

    @property
    def voice(self) -> str:
        return LANGUAGES[self.language].voice

    def text(self, name: str, **slots: Any) -> str:
        """The words for ``name`` in this language, with its slots filled."""
        # A version saved before this moment existed has no words for it: the shipped ones.
        texts = self.document["scripts"].get(name) or default_document()["scripts"][name]
        words = texts.get(self.language) or texts[ENGLISH]
        return words.format_map({k: str(v) for k, v in slots.items()})

    def spoken(self, name: str, **slots: Any) -> str:
        """As the IVR says it: numbers digit by digit ("9 1 1", "6 1 7 ...")."""
        return DIGIT_RUN.sub(lambda m: " ".join(m.group()), self.text(name, **slots))

    def advice(self, actions: Iterable[str]) -> list[str]:
        """The words for each of a decision's advice actions (911, Poison Control, 988)."""
        return [self.text(key) for key in advice_keys(actions)]

    def label(self, slug: str, english: str) -> str:
        """A call type's label in this language (its own, English, where none is given)."""
        return self.document.get("labels", {}).get(self.language, {}).get(slug, english)
