"""A patient asked for a new appointment time from a reminder (pressed 3 on its call): a
message in the scheduling queue, so the front desk calls back. The patient's name and the
number to call are the message's fields, sealed like any message; which appointment is
said by its id only."""

from __future__ import annotations

from clinicline.inbox.models import Message, Source
from clinicline.intake.service import call_types_for, take_message
from clinicline.outreach.appointment_models import Appointment

CALL_TYPE = "scheduling"
SAID = ("A reminder call asked: press 3 to reschedule. The patient pressed 3 "
        "(appointment {id}).")


def request_message(appointment: Appointment, *, number: str, call_sid: str = "") -> Message:
    """The scheduling message for a reschedule request made on a reminder call."""
    practice = appointment.practice
    call_type = call_types_for(practice).get_or_general(CALL_TYPE)
    fields = {"patient_name": appointment.patient.display_name, "callback_number": number}
    return take_message(practice, call_type, fields, source=Source.IVR, caller_number=number,
                        call_sid=call_sid, said=(SAID.format(id=appointment.pk),))
