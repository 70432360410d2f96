"""A virtual phone's history: the simulator's log of what each phone did and heard, and the
call a phone is on or that rings it (read back from that log, so a call survives a page
reload or a second browser tab). The loopback transport writes here too: it is how the
practice's texts and calls reach the simulator's phones. A call of the practice's that asks
and listens (a voice page: its delivery has a ``call_step``) rings until the phone answers
it, or lets the answering machine take it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import QuerySet

from clinicline.outbox.models import Delivery
from clinicline.patients.models import BY_PHONE
from clinicline.practices.models import Practice
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.twiml import Answer, parse_answer
from clinicline.vault.blind import blind_index

# What the simulator logs for each thing a virtual phone does or hears (SimulatorEvent.kind).
SMS, CALL, KEYS, SAY = "sms", "call", "keys", "say"
RECORD, HANGUP, OPEN, LINE = "record", "hangup", "open", "line"
ANSWER = "answer"  # the phone answered a call from the practice (body: who answered)
CALL_KINDS = (CALL, KEYS, SAY, RECORD, HANGUP, LINE, ANSWER)
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
    outbound: bool = False  # the practice called this phone (Twilio's "outbound-api")


@dataclass
class Ringing:
    """A call from the practice that waits to be answered: a voice page."""

    sid: str
    delivery: Delivery


def call_events(practice: Practice, token: str) -> QuerySet[SimulatorEvent]:
    return (SimulatorEvent.objects.for_practice(practice)
            .filter(number_index=token, kind__in=CALL_KINDS).order_by("-created_at"))


def current_call(practice: Practice, token: str) -> LiveCall | None:
    """The call this phone is on: its last call event is an answer that waits for keys or
    a voicemail. Outbound calls from the loopback transport that only play a script, or
    still ring, are not a call the phone is on."""
    last = call_events(practice, token).exclude(direction=TO_PHONE, kind=CALL).first()
    if last is None or last.kind != SAY:
        return None
    answer = answer_of(last)
    if answer is None or not answer.waits:
        return None
    outbound = SimulatorEvent.objects.filter(practice=practice, call_sid=last.call_sid,
                                             kind=ANSWER).exists()
    return LiveCall(last.call_sid, answer, outbound)


def ringing(practice: Practice, token: str) -> Ringing | None:
    """The practice's call that rings this phone: the newest thing on its line is a call
    from the practice that asks and listens, not answered yet."""
    last = call_events(practice, token).select_related("delivery").first()
    if (last is None or last.kind != CALL or last.direction != TO_PHONE
            or last.delivery is None or not last.delivery.call_step):
        return None
    return Ringing(last.call_sid, last.delivery)
