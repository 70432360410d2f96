"""The triage decision: a pure function of the protocol, the call type, the agent's yes/no
answers and the caller's free text. Never the agent's guess."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clinicline.triage import readers
from clinicline.triage.spec import ADVICE, Action, Facts, Priority, ProtocolSpec, Question, Rule


@dataclass(frozen=True)
class Decision:
    priority: Priority
    rules: tuple[str, ...]       # every rule that fired, in protocol order (for the record)
    actions: tuple[Action, ...]  # what to do: the actions of the rules at that priority
    script: str                  # the exact words to say to the caller
    protocol_version: int
    red_flags: tuple[str, ...]   # what the free text mentioned (and did not negate)
    # Why, one line per rule that fired, in words a nurse reads: 'temperature 100.9 °F +
    # age 6 weeks → infant-fever-reading, emergency'. Quotes the caller: it is PHI.
    because: tuple[str, ...] = ()

    @property
    def advise_911(self) -> bool:
        return Action.ADVISE_911 in self.actions

    @property
    def advise_poison_control(self) -> bool:
        return Action.ADVISE_POISON_CONTROL in self.actions

    @property
    def advise_988(self) -> bool:
        return Action.ADVISE_988 in self.actions

    @property
    def advice(self) -> tuple[Action, ...]:
        """Where the caller is told to turn now (911, Poison Control, 988), in that order."""
        return tuple(a for a in ADVICE if a in self.actions)

    @property
    def escalate_now(self) -> bool:
        return Action.ESCALATE_NOW in self.actions

    def as_json(self) -> dict[str, object]:
        return {"priority": str(self.priority), "rules": list(self.rules),
                "because": list(self.because), "protocol_version": self.protocol_version}


def decide(protocol: ProtocolSpec, call_type: str | None, answers: Mapping[str, bool],
           texts: Iterable[str] = (), at: dt.datetime | None = None) -> Decision:
    """Fire every rule whose condition holds; the highest priority among them wins.

    Rules only test for things being present, so another finding or another "yes" can
    fire more rules but never un-fire one: free text raises a priority, never lowers it.
    ``at`` is when the texts were taken, in the practice's time ("since Monday"); without
    it such words are read as the widest span they could mean.
    """
    unknown = [q for q in answers if protocol.question(q) is None]
    if unknown:
        raise ValueError(f"no question {unknown[0]!r} in protocol v{protocol.version}")
    texts = [t for t in texts if t]
    facts = Facts(call_type, frozenset(q for q, answer in answers.items() if answer is True),
                  _flags(protocol, texts),
                  readers.read(texts, at) if protocol.reads else readers.Findings())
    fired = [r for r in protocol.rules_that_may_hold(call_type, facts.yes, frozenset(facts.flags))
             if r.when.holds(facts)]
    found = tuple(sorted(facts.flags))
    if not fired:
        return Decision(Priority.ROUTINE, (), protocol.default_actions, protocol.default_say,
                        protocol.version, found)
    top = max(r.priority.rank for r in fired)
    winners = [r for r in fired if r.priority.rank == top]
    return Decision(winners[0].priority, tuple(r.id for r in fired), _actions(winners),
                    _script(winners), protocol.version, found,
                    tuple(_because(r, facts) for r in fired))


def _flags(protocol: ProtocolSpec, texts: list[str]) -> dict[str, str]:
    """Each red flag found, with the first words that said it."""
    found: dict[str, str] = {}
    for text in texts:
        for hit in protocol.detector.hits(text):
            if not hit.negated:
                found.setdefault(hit.flag, hit.phrase)
    return found


def _because(rule: Rule, facts: Facts) -> str:
    return f"{' + '.join(rule.when.evidence(facts))} → {rule.id}, {rule.priority}"


def _actions(winners: list[Rule]) -> tuple[Action, ...]:
    return tuple(dict.fromkeys(a for r in winners for a in r.actions))


def _script(winners: list[Rule]) -> str:
    # Two emergency rules often say the same thing; say it once.
    return " ".join(dict.fromkeys(r.say for r in winners))


def questions_for(protocol: ProtocolSpec, call_type: str | None,
                  answers: Mapping[str, bool] | None = None) -> list[Question]:
    """The questions to ask now: those for this call type, with follow-ups shown once the
    question they follow is answered yes."""
    answers = answers or {}

    def shown(q: Question) -> bool:  # terminates: validation refuses ask_if cycles
        if q.call_types and call_type not in q.call_types:
            return False
        parent = protocol.question(q.ask_if) if q.ask_if else None
        return parent is None or (answers.get(parent.id) is True and shown(parent))

    return [q for q in protocol.questions if shown(q)]
