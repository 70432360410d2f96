"""What a call hears and does, in no vendor's terms: a ``Script`` of say / gather / record /
dial / redirect / hangup verbs, and the ``CallEvent`` that comes back.

The domain answers a call (the IVR, a voice page) with a script; the gateway renders
it in its vendor's language (TwiML for Twilio) and turns each ``Step`` into a URL of its
own. A step names where the call goes next and carries a few PHI-free parameters (a
counter, a call-type slug and version): everything about the caller stays in rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ENGLISH = "en-US"


@dataclass(frozen=True)
class Step:
    """Where a call goes next: a step's name and its parameters (short, PHI-free)."""

    name: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, **params: object) -> Step:
        return cls(name, {k: str(v) for k, v in params.items()})

    def get(self, name: str) -> str:
        return self.params.get(name, "")

    def number(self, name: str, default: int = 0) -> int:
        """A small whole number parameter, or ``default`` for anything else."""
        value = self.get(name)
        return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else default


@dataclass(frozen=True)
class Say:
    text: str
    language: str = ENGLISH


@dataclass(frozen=True)
class Gather:
    """Keys: ``num_digits`` of them, or up to ``finish_on_key``; then ``action``. Without
    a key before ``timeout_s`` the script goes on to its next verb."""

    prompt: tuple[Say, ...]
    action: Step
    timeout_s: int
    num_digits: int | None = None
    finish_on_key: str | None = None


@dataclass(frozen=True)
class Record:
    """A recording of at most ``max_length_s``; ``action`` once the caller stops, and
    ``ready`` (with these parameters) once the audio is stored at the vendor."""

    action: Step
    ready: Step
    max_length_s: int
    finish_on_key: str = "#"


@dataclass(frozen=True)
class Dial:
    """Connect the call to ``number``; ``action`` once that call ends. A ``whisper`` step
    is played to the person answering before the two are connected: its script may hang
    up, and then they never are. ``caller_id``: the number the dialled phone sees."""

    number: str
    action: Step
    timeout_s: int
    whisper: Step | None = None
    caller_id: str = ""


@dataclass(frozen=True)
class Redirect:
    action: Step


@dataclass(frozen=True)
class Hangup:
    pass


Verb = Say | Gather | Record | Dial | Redirect | Hangup
Script = tuple[Verb, ...]


@dataclass(frozen=True)
class CallEvent:
    """One request of a call, as the domain sees it."""

    call_sid: str
    caller: str = ""          # the number calling, E.164, or "" when withheld or odd
    called: str = ""          # the number called, E.164 (the practice's, on its own line)
    digits: str = ""          # keys pressed for a Gather
    dial_status: str = ""     # how a Dial ended: completed, answered, no-answer, busy, …
    recording_sid: str = ""   # the recording a Record action or callback is about
    # Who answered a call we made: human, machine_start, machine_end_*, fax, unknown, or
    # "" when the vendor did not say.
    answered_by: str = ""

    @property
    def machine(self) -> bool:
        """An answering machine or a fax took the call: nobody to ask for a PIN."""
        return self.answered_by.startswith("machine") or self.answered_by == "fax"
