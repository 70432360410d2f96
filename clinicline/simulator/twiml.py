"""Reading the practice's answers (TwiML) the way a caller experiences them.

Each verb becomes a step the phone's page shows (say, menu, record, dial, hangup, …) and
what the call waits for next: keys (``<Gather>``), a voicemail (``<Record>``), the end of a
forwarded call (``<Dial>``), or a ``<Redirect>`` to follow. Pure functions: nothing here
touches the database or the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree


@dataclass
class Step:
    """One verb of an answer, as the caller experiences it."""

    verb: str   # say, menu, play, dial, record, redirect, hangup, other
    text: str = ""
    language: str = "en-US"  # what a <Say> is spoken in


@dataclass
class Answer:
    document: str                       # the path that gave this answer
    steps: list[Step] = field(default_factory=list)
    gather: str | None = None           # where pressed keys go
    num_digits: int | None = None
    finish_on_key: str = "#"            # ends the keys; Twilio leaves it out of Digits
    dial: str | None = None             # where the end of a <Dial> is reported
    dialled: str = ""                   # the number a <Dial> calls
    whisper: str | None = None          # what the dialled phone hears first (<Number url>)
    record: dict[str, str] | None = None  # the <Record> verb's attributes
    redirect: str | None = None
    texts: list[str] = field(default_factory=list)  # <Message> replies to a text

    @property
    def language(self) -> str:
        """The language the practice last spoke in: a caller answers in it."""
        return next((s.language for s in reversed(self.steps) if s.verb in ("say", "menu")),
                    "en-US")

    @property
    def waits(self) -> bool:
        return self.gather is not None or self.record is not None or self.dial is not None


def parse_answer(twiml: str, document: str) -> Answer:
    answer = Answer(document)
    if not twiml.strip():
        return answer
    try:
        # Our own server's answer, just produced in this process: not a stranger's XML.
        root = ElementTree.fromstring(twiml)  # noqa: S314
    except ElementTree.ParseError:
        answer.steps.append(Step("other", "The answer is not valid TwiML."))
        return answer
    for verb in root:
        read_verb(answer, verb)
    return answer


def words(element: ElementTree.Element) -> str:
    return " ".join((element.text or "").split())


def read_say(answer: Answer, verb: ElementTree.Element) -> None:
    answer.steps.append(Step("say", words(verb), verb.get("language") or "en-US"))


def read_gather(answer: Answer, verb: ElementTree.Element) -> None:
    # A Gather without an action sends the keys to the document that asked for them.
    answer.gather = verb.get("action") or answer.document
    digits = verb.get("numDigits", "0")
    answer.num_digits = int(digits) if digits.isdigit() and int(digits) else None
    answer.finish_on_key = verb.get("finishOnKey", "#")
    answer.steps += [Step("menu", words(say), say.get("language") or "en-US")
                     for say in verb.iter("Say")]


def read_record(answer: Answer, verb: ElementTree.Element) -> None:
    answer.record = dict(verb.attrib)
    answer.steps.append(Step("record", verb.get("maxLength", "3600")))


def read_dial(answer: Answer, verb: ElementTree.Element) -> None:
    numbers = list(verb.iter("Number"))
    number = words(verb) or " ".join(n.text or "" for n in numbers)
    answer.steps.append(Step("dial", number.strip()))
    answer.dialled = number.strip()
    answer.whisper = numbers[0].get("url") if len(numbers) == 1 else None
    # With an action, Twilio reports how the dialled call ended there; the simulator's
    # caller says whether the other line answered.
    answer.dial = verb.get("action")


def read_redirect(answer: Answer, verb: ElementTree.Element) -> None:
    answer.redirect = words(verb)
    answer.steps.append(Step("redirect"))


def read_hangup(answer: Answer, verb: ElementTree.Element) -> None:
    answer.steps.append(Step("hangup"))


def read_message(answer: Answer, verb: ElementTree.Element) -> None:
    answer.texts.append(" ".join("".join(verb.itertext()).split()))


def read_play(answer: Answer, verb: ElementTree.Element) -> None:
    answer.steps.append(Step("play"))


def read_pause(answer: Answer, verb: ElementTree.Element) -> None:
    """A pause says nothing."""


def read_other(answer: Answer, verb: ElementTree.Element) -> None:
    answer.steps.append(Step("other", verb.tag))


VERBS: dict[str, Callable[[Answer, ElementTree.Element], None]] = {
    "Say": read_say, "Gather": read_gather, "Record": read_record, "Dial": read_dial,
    "Redirect": read_redirect, "Hangup": read_hangup, "Reject": read_hangup,
    "Message": read_message, "Play": read_play, "Pause": read_pause,
}


def read_verb(answer: Answer, verb: ElementTree.Element) -> None:
    VERBS.get(verb.tag, read_other)(answer, verb)
