"""What a patient's text to the practice number asks for: pure parsing, no database.

Two kinds of match, in this order:

1. **Whole-message keywords**: the text is one keyword and nothing else, in any case, with
   any spaces (``"Stop all"`` is STOPALL, ``"opt out"`` OPTOUT) and any punctuation or
   emoji around it. This is how carriers and Twilio read them: Twilio acts on STOP,
   STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE and OPTOUT only when the body is the
   keyword alone, and blocks the number itself. So a bare "cancel" is an opt-out here too,
   whatever reminder it answers: Twilio has already stopped the number, and treating it as
   "cancel my appointment" would promise a conversation that can no longer happen.
2. **Plain-language opt-outs** (the FCC: a revocation by "any reasonable means" counts):
   phrases that ask for the texts to stop ("please stop texting me", "no more messages",
   "remove me from this list", "no me manden más mensajes"). A phrase must name the
   texting, not merely contain "stop": "my stomach pain won't stop" is a message for the
   inbox, and "don't stop texting me" is not a revocation.

A reminder reply is a whole message too: 1 or C confirms, 2 cancels, 3 or R asks to
reschedule, and "cancel my appointment" / "cancelar mi cita" cancel the appointment (they
are not a carrier keyword, so the number stays open for the answer).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass


class Kind(enum.StrEnum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    NONE = "none"


# Keywords as they are compared: lower case, accents and every non-letter/digit removed.
# Spanish beside English: ALTO, PARAR, CANCELAR (the issue's), BAJA ("darse de baja");
# AYUDA for help.
WORDS: dict[str, Kind] = {
    **dict.fromkeys(["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke",
                     "optout", "alto", "parar", "cancelar", "baja"], Kind.OPT_OUT),
    **dict.fromkeys(["start", "yes", "unstop"], Kind.OPT_IN),
    **dict.fromkeys(["help", "info", "ayuda"], Kind.HELP),
    **dict.fromkeys(["1", "c", "confirm", "confirmar"], Kind.CONFIRM),
    **dict.fromkeys(["2"], Kind.CANCEL),
    **dict.fromkeys(["3", "r", "reschedule"], Kind.RESCHEDULE),
}
SPANISH = frozenset({"alto", "parar", "cancelar", "baja", "ayuda", "confirmar"})
# Replies to a reminder: they act on the appointment the number was last reminded of.
REMINDER_KINDS = frozenset({Kind.CONFIRM, Kind.CANCEL, Kind.RESCHEDULE})

_TEXTS = r"(?:text(?:s|ing)?|txts?|sms|messages?|msgs?|mensajes?|textos?)"
_CONTACT = r"(?:text(?:ing)?|txting|messag(?:e|ing)|contact(?:ing)?|send(?:ing)? me)"
_NEGATED = r"(?<!dont )(?<!do not )(?<!never )(?<!please dont )"
PHRASES = [re.compile(p) for p in (
    # English
    rf"\b{_NEGATED}stop {_CONTACT}\b",
    rf"\b{_NEGATED}stop (?:all |the |these |your |sending )*{_TEXTS}\b",
    rf"\bno more {_TEXTS}\b",
    rf"\b(?:dont|do not|never) (?:ever )?{_CONTACT} (?:me|us|this number)\b",
    r"\bremove (?:me|my number|this number)\b",
    r"\btake (?:me|my number|this number) off\b",
    r"\b(?:unsubscribe|opt (?:me )?out)\b",
    r"\bi (?:want to |wish to )?(?:revoke|withdraw) (?:my )?consent\b",
    # Spanish (read without accents)
    rf"\bno (?:me )?(?:envie|envien|mande|manden|escriba|escriban)n? (?:mas )?{_TEXTS}\b",
    rf"\bno (?:quiero|deseo) (?:recibir )?(?:mas )?{_TEXTS}\b",
    rf"\bno mas {_TEXTS}\b",
    r"\bdej(?:e|en|a) de (?:enviarme|mandarme|escribirme|enviar|mandar)\b",
    r"\b(?:quitenme|quiteme|borrenme|borreme|sacame|saquenme)\b",
    r"\bdar(?:me)? de baja\b",
)]
APPOINTMENT_CANCEL = re.compile(
    r"^(?:please )?(?:cancel|cancelar) (?:my |the |mi |la )?(?:appointment|appt|cita)"
    r"(?: please| por favor)?$")
APPOINTMENT_RESCHEDULE = re.compile(
    r"^(?:please )?(?:i need to |i want to |can i )?(?:reschedule|reprogramar|cambiar)"
    r"(?: my| the| mi| la)?(?: appointment| appt| cita)?(?: please| por favor)?$")


@dataclass(frozen=True)
class Reply:
    kind: Kind
    # The keyword as the patient sent it, normalised ("stop", "alto"), or "phrase" for a
    # plain-language opt-out: PHI-free, so it may go in the ledger's evidence note.
    word: str = ""
    language: str = "en"

    @property
    def evidence(self) -> str:
        """The ledger's evidence note: which reply it was, never the patient's words."""
        if self.word == "phrase":
            return f"{self.kind} reply in plain words"
        return f"{self.word.upper()} reply"


NONE = Reply(Kind.NONE)


def fold(body: str) -> str:
    """Lower case, accents gone, apostrophes dropped ("don't" -> "dont"), every other
    non-letter/digit a space, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", body.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’‘`]", "", plain)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def classify(body: str) -> Reply:
    """What ``body`` asks for (``Kind.NONE``: a message for the inbox)."""
    folded = fold(body[:500])  # a keyword or a phrase is short; a long text is a message
    word = folded.replace(" ", "")
    if word in WORDS and len(folded) <= 16:
        return Reply(WORDS[word], word, "es" if word in SPANISH else "en")
    if APPOINTMENT_CANCEL.match(folded):
        return Reply(Kind.CANCEL, "cancel", _language(folded))
    if APPOINTMENT_RESCHEDULE.match(folded):
        return Reply(Kind.RESCHEDULE, "reschedule", _language(folded))
    if any(p.search(folded) for p in PHRASES):
        return Reply(Kind.OPT_OUT, "phrase", _language(folded))
    return NONE


_SPANISH_HINTS = frozenset("no me mas mensajes mensaje textos cita mi la por favor de baja "
                           "quiero dejen deje envien manden".split())


def _language(folded: str) -> str:
    words = folded.split()
    return "es" if sum(w in _SPANISH_HINTS for w in words) * 2 > len(words) else "en"


def answered_by_worker(body: str) -> bool:
    """A keyword or reminder reply: the webhook sends no auto-reply, the worker answers."""
    return classify(body).kind is not Kind.NONE
