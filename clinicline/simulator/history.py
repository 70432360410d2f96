"""A virtual phone's history: the simulator's log of what each phone did and heard, and the
call a phone is on (read back from that log, so a call survives a page reload or a second
browser tab). The loopback transport writes here too: it is how the practice's texts and
calls reach the simulator's phones."""

from __future__ import annotations

import json
from dataclasses import dataclass

from clinicline.outbox.models import Delivery
from clinicline.patients.models import BY_PHONE
from clinicline.practices.models import Practice
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.twiml import Answer, parse_answer
from clinicline.vault.blind import blind_index

# What the simulator logs for each thing a virtual phone does or hears (SimulatorEvent.kind).
SMS, CALL, KEYS, SAY = "sms", "call", "keys", "say"
RECORD, HANGUP, OPEN, LINE = "record", "hangup", "open", "line"
CALL_KINDS = (CALL, KEYS, SAY, RECORD, HANGUP, LINE)
FROM_PHONE = SimulatorEvent.Direction.FROM_PHONE
TO_PHONE = SimulatorEvent.Direction.TO_PHONE


def number_index(practice_id: int, number: str) -> str:
    """How the log names a phone: the number's blind index in the practice (the value
    ``ContactPoint.value_index`` holds for the same number)."""
    return blind_index(practice_id, BY_PHONE, number)


def log_event(practice_id: int, number: str, direction: str, kind: str, body: str = "",
              sid: str = "", delivery: Delivery | None = None) -> SimulatorEvent:
    """One line of a virtual phone's history. ``sid`` is the provider's id of the exchange
    (the CallSid of a call, the MessageSid of a text)."""
    return SimulatorEvent.objects.create(
        practice_id=practice_id, number=number, direction=direction, kind=kind, body=body,
        number_index=number_index(practice_id, number), call_sid=sid, delivery=delivery)


def log_answer(practice_id: int, number: str, sid: str, document: str,
               twiml: str) -> Answer:
    """What the practice said on a call, logged as it said it, and read."""
    log_event(practice_id, number, TO_PHONE, SAY,
              json.dumps({"document": document, "twiml": twiml}), sid)
    return parse_answer(twiml, document)


def answer_of(event: SimulatorEvent) -> Answer | None:
    """The answer a "say" row logged, or None if the row is not one."""
    try:
        logged = json.loads(event.body)
        return parse_answer(logged["twiml"], logged["document"])
    except (ValueError, KeyError, TypeError):
        return None


def events(practice: Practice, token: str, limit: int) -> list[SimulatorEvent]:
    """A phone's history, newest first."""
    return list(SimulatorEvent.objects.for_practice(practice).filter(number_index=token)
                .select_related("delivery").order_by("-created_at")[:limit])


@dataclass
class LiveCall:
    sid: str
    answer: Answer


def current_call(practice: Practice, token: str) -> LiveCall | None:
    """The call this phone is on: its last call event is an answer that waits for keys or
    a voicemail. Outbound calls from the loopback transport only play a script."""
    last = (SimulatorEvent.objects.for_practice(practice)
            .filter(number_index=token, kind__in=CALL_KINDS)
            .exclude(direction=TO_PHONE, kind=CALL).order_by("-created_at").first())
    if last is None or last.kind != SAY:
        return None
    answer = answer_of(last)
    return LiveCall(last.call_sid, answer) if answer is not None and answer.waits else None
