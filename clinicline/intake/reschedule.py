"""A patient asked for a new appointment time from a reminder (pressed 3 on its call, or
texted R or 3): a message in the scheduling queue, so the front desk calls back. The
patient's name and the number to call are the message's fields, sealed like any message;
the message is the appointment's patient's, and says which appointment by its id (a call)
or in the conversation (a text)."""

from __future__ import annotations

from typing import Any

from clinicline.inbox.models import Message, Source
from clinicline.intake.ivr import valid_number
from clinicline.intake.service import call_types_for, take_message
from clinicline.outreach.appointment_models import Appointment

CALL_TYPE = "scheduling"
SAID = ("A reminder call asked: press 3 to reschedule. The patient pressed 3 "
        "(appointment {id}).")


def request_message(appointment: Appointment, *, number: str, source: str = Source.IVR,
                    **details: Any) -> Message:
    """The scheduling message for a reschedule request made on a reminder's call or in
    reply to its text (``details``: what ``take_message`` records, such as ``at``,
    ``call_sid`` or ``conversation``; a call says which appointment by default)."""
    practice = appointment.practice
    call_type = call_types_for(practice).get_or_general(CALL_TYPE)
    if source == Source.IVR:
        details.setdefault("said", (SAID.format(id=appointment.pk),))
    fields = {"patient_name": appointment.patient.display_name,
              "callback_number": valid_number(number)}
    message = take_message(practice, call_type, fields, source=source, caller_number=number,
                           **details)
    Message.objects.filter(pk=message.pk).update(patient=appointment.patient)
    message.patient = appointment.patient
    return message
