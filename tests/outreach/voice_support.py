"""A reminder call on the simulator's phone: Walter Okafor's appointment with Dr. Amara
Osei, the call placed as the sending decision would, handed to the loopback carrier, and
answered through the real, signed outreach webhook."""

from __future__ import annotations

from clinicline.outbox import service as outbox
from clinicline.outreach import voice
from clinicline.outreach.appointment_models import Reminder
from clinicline.outreach.voice_models import OutreachCall
from clinicline.patients import consent
from clinicline.patients.models import Source
from clinicline.practices.models import GatewayAccount, Practice
from clinicline.simulator import calls, history
from clinicline.simulator.twiml import Answer
from tests.outreach.support import WALTER_MOBILE, book, dr_osei, walter


def booked_reminder(practice: Practice, by: object) -> Reminder:
    walter(practice)
    dr_osei(practice)
    book(practice, by)
    return Reminder.objects.order_by("send_at").first()  # type: ignore[return-value]


def consent_to(patient: object, channel: str, purpose: str, by: object,
               granted: bool = True) -> None:
    consent.record(patient, channel=channel, purpose=purpose, granted=granted,  # type: ignore[arg-type]
                   source=Source.PAPER_FORM, by=by, evidence="signed at the front desk")


def rung(account: GatewayAccount, about: object, number: str = WALTER_MOBILE) -> OutreachCall:
    """The call placed and carried: the patient's virtual phone rings."""
    call = voice.place_reminder_call(about, to=number)  # type: ignore[arg-type]
    assert outbox.send_due() == 1
    return call


def pick_up(account: GatewayAccount, *, human: bool, number: str = WALTER_MOBILE) -> Answer:
    ring = history.ringing(account.practice, history.number_index(account.practice_id, number))
    assert ring is not None, "the phone is not ringing"
    return calls.answer_call(account, number, ring, human=human)


def press(account: GatewayAccount, digits: str, number: str = WALTER_MOBILE) -> Answer | None:
    call = history.current_call(account.practice,
                                history.number_index(account.practice_id, number))
    assert call is not None, "the phone is not on a call that waits for keys"
    return calls.press_keys(account, number, call, digits)


def said(answer: Answer | None) -> str:
    return " ".join(s.text for s in answer.steps if s.text) if answer else ""
