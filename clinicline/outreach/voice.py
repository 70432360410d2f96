"""A call to a patient (a reminder, results, a care-team or billing message), step by
step, as vendor-neutral scripts (like ``oncall.voice``): the gateway's outreach webhook
renders them.

A call is placed only after the sending decision allowed it, by call or by voicemail
(``place_reminder_call``, or ``place_message_call`` for a message about neither an
appointment nor results: what that decision calls). Then, when it is answered:

- a person hears the approved voice words (a reminder: press 1 to confirm, 2 to cancel,
  3 to reschedule; results: "Your results are ready. Please call the office at …"; a
  care-team or billing message: "… calling about …. Please call us back at …");
- a machine (the carrier's answering-machine detection) gets the approved voicemail
  script, and only if the patient's voicemail consent for this purpose is granted *at
  that moment*, read from the ledger, and they have not asked for no voicemails. Else the
  call hangs up and the step says why: nothing is left.

Every spoken text passes the PHI guard (``outbox.service.screened``) just before it is
said. Every step is an ``OutreachCallStep`` row: codes and our own sentences, no PHI.
Steps carry only the call's id; the key step also a proof bound to the carrier's call id
(an HMAC), so a replayed or forged step URL does nothing on another call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.outbox.models import Channel as OutboxChannel
from clinicline.outbox.service import enqueue, screened
from clinicline.outbox.voice import CallEvent, Gather, Hangup, Redirect, Say, Script, Step
from clinicline.outreach import appointments, reminders, service, templates
from clinicline.outreach.appointment_models import Appointment, AppointmentStatus, Reminder
from clinicline.outreach.kinds import PURPOSE_REASON, Channel, Purpose
from clinicline.outreach.voice_models import (
    CallOutcome,
    OutreachCall,
    OutreachCallStep,
    ResultsLink,
)
from clinicline.patients import consent
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice, Provider

# The outbox purpose of these calls: the gateway sends their steps to the outreach webhook.
PURPOSE = "outreach-call"
CALL_PARAM, PROOF = "call", "ok"
ANSWER, KEY = "answer", "key"
CONFIRM, CANCEL, RESCHEDULE, AGAIN = "1", "2", "3", "9"
KEY_TIMEOUT_S = 8
KEY_TRIES = 2
GOODBYE = "Goodbye."
NO_CONSENT = "no voicemail left: no voicemail consent"


# --- placing the call -----------------------------------------------------------------------

def place_reminder_call(about: Reminder | ResultsLink, *, to: str, language: str = "en",
                        now: dt.datetime | None = None) -> OutreachCall:
    """Queue the call the sending decision allowed: a reminder's, or a results request's,
    to ``to`` (a verified E.164 number). The delivery's body is the voicemail script (what
    the outbox's last screen reads before the call goes); the call itself starts at the
    outreach webhook with the call's id, and asks the carrier to detect machines."""
    reminder = about if isinstance(about, Reminder) else None
    link = about if isinstance(about, ResultsLink) else None
    patient = reminder.appointment.patient if reminder else link.patient  # type: ignore[union-attr]
    purpose = Purpose.APPOINTMENT_REMINDERS if reminder else Purpose.RESULTS_READY
    return _placed(OutreachCall(practice=about.practice, patient=patient, purpose=purpose,
                                language=language, reminder=reminder, results_link=link),
                   to, now)


def place_message_call(practice: Practice, patient: Patient, *, purpose: str,
                       provider: Provider | None, to: str, language: str = "en",
                       now: dt.datetime | None = None) -> OutreachCall:
    """``place_reminder_call`` for a message about neither an appointment nor results (a
    care-team or billing message, by call or by voicemail): the same call, naming
    ``provider``'s office where its words do."""
    return _placed(OutreachCall(practice=practice, patient=patient, purpose=purpose,
                                language=language, provider=provider), to, now)


def _placed(call: OutreachCall, to: str, now: dt.datetime | None) -> OutreachCall:
    now = now or timezone.now()
    with transaction.atomic():
        call.save(force_insert=True)
        body = spoken(call, Channel.VOICEMAIL)
        call.delivery = enqueue(call.practice, channel=OutboxChannel.VOICE, to=to, body=body,
                                purpose=PURPOSE, idempotency_key=f"outreach-call:{call.pk}",
                                patient=call.patient, call_step=call_step(call),
                                max_attempts=2)
        call.save(update_fields=["delivery"])
        note(call, "placed", "queued after the sending decision", now)
        record(Action.OUTREACH_CALL, practice=call.practice_id, obj=call,
               patient=call.patient_id, reason=f"{call.purpose} call")
    return call


def call_step(call: OutreachCall) -> str:
    return urlencode({CALL_PARAM: call.pk})


def note(call: OutreachCall, step: str, detail: str, at: dt.datetime | None = None) -> None:
    OutreachCallStep.objects.create(call=call, at=at or timezone.now(), step=step,
                                    detail=detail[:120])


def settle(call: OutreachCall, outcome: str) -> None:
    OutreachCall.objects.filter(pk=call.pk).update(outcome=outcome, updated_at=timezone.now())
    call.outcome = outcome


# --- the words -------------------------------------------------------------------------------

def appointment_of(call: OutreachCall) -> Appointment | None:
    return call.reminder.appointment if call.reminder_id and call.reminder else None


def provider_of(call: OutreachCall) -> Provider | None:
    appointment = appointment_of(call)
    if appointment is not None:
        return appointment.provider
    if call.results_link_id and call.results_link and call.results_link.provider_id:
        return call.results_link.provider
    return call.provider if call.provider_id else None


def spoken(call: OutreachCall, channel: str) -> str:
    """The approved words for the call's purpose on ``channel`` (voice or voicemail)."""
    appointment = appointment_of(call)
    live = service.live(call.practice, (call.purpose, channel, call.language))
    values = templates.Values(provider=provider_of(call),
                              reason=PURPOSE_REASON[call.purpose],
                              appointment_at=appointment.starts_at if appointment else None)
    return templates.render(live.body, practice=call.practice, channel=channel,
                            language=call.language, values=values)


def guarded(call: OutreachCall, text: str, phone: str) -> list[str]:
    """What the PHI guard finds in ``text`` said to this call's patient (empty: say it)."""
    return screened(call.practice, text, call.patient, phone=phone)


def bye(*words: str) -> Script:
    return (*(Say(w) for w in words if w), Hangup())


# --- the steps -------------------------------------------------------------------------------

def found(practice: Practice, at: Step) -> OutreachCall | None:
    try:
        call_id = uuid.UUID(at.get(CALL_PARAM))
    except ValueError:
        return None
    return (OutreachCall.objects.for_practice(practice).filter(pk=call_id)
            .select_related("practice", "patient", "reminder__appointment__provider",
                            "results_link__provider", "provider").first())


def proof(call_sid: str, call: OutreachCall) -> str:
    message = f"outreach.voice:{call_sid}:{call.pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def answer(practice: Practice, event: CallEvent, at: Step) -> Script:
    call = found(practice, at)
    if call is None:
        return (Hangup(),)
    if event.machine:
        note(call, "machine", f"answered by {event.answered_by}")
        return voicemail(call, event)
    note(call, "human", "a person answered")
    return person(call, event)


def voicemail(call: OutreachCall, event: CallEvent) -> Script:
    """The voicemail script, only where voicemail consent exists now; else nothing."""
    purpose = call.purpose
    if not consent.state(call.patient, Channel.VOICEMAIL, purpose).allowed:
        return left_nothing(call, NO_CONSENT)
    if consent.preferences(call.patient).do_not_leave_voicemail:
        return left_nothing(call, "no voicemail left: the patient asked for none")
    try:
        script = spoken(call, Channel.VOICEMAIL)
    except templates.MissingValue:
        return left_nothing(call, "no voicemail left: no provider to name")
    found_phi = guarded(call, script, event.called)
    if found_phi:
        return left_nothing(call, f"no voicemail left: looks like PHI ({', '.join(found_phi)})")
    note(call, "voicemail", "the voicemail script was left")
    settle(call, CallOutcome.VOICEMAIL)
    return bye(script)


def left_nothing(call: OutreachCall, why: str) -> Script:
    note(call, "no-voicemail", why)
    settle(call, CallOutcome.NO_VOICEMAIL)
    return (Hangup(),)


def person(call: OutreachCall, event: CallEvent, tries: int = 1, first: str = "") -> Script:
    try:
        words = spoken(call, Channel.VOICE)
    except templates.MissingValue:
        return bye(GOODBYE)
    if guarded(call, words, event.called):
        note(call, "withheld", "nothing said: the PHI guard found something")
        return (Hangup(),)
    if tries == 1:
        settle(call, CallOutcome.SPOKEN)
    if appointment_of(call) is None:  # results or a message: nothing to choose
        note(call, "spoken", f"the {call.purpose} words were said")
        return bye(words)
    note(call, "spoken", "the reminder was said")
    step = Step.of(KEY, **{CALL_PARAM: call.pk, PROOF: proof(event.call_sid, call),
                           "attempt": tries})
    words = f"{first} {words} To hear this again, press {AGAIN}.".strip()
    return (Gather((Say(words),), step, KEY_TIMEOUT_S, num_digits=1), Redirect(step))


def key(practice: Practice, event: CallEvent, at: Step) -> Script:
    """A key the person pressed (or none, at the timeout)."""
    call = found(practice, at)
    appointment = appointment_of(call) if call else None
    if call is None or appointment is None or not hmac.compare_digest(
            at.get(PROOF), proof(event.call_sid, call)):
        return (Hangup(),)
    pressed, tries = event.digits[:1], at.number("attempt", 1)
    choice = CHOICES.get(pressed)
    if choice is not None:
        note(call, "key", f"pressed {pressed}")
        record(Action.OUTREACH_CALL_KEY, practice=practice, obj=call,
               patient=call.patient_id, reason=f"pressed {pressed}")
        return choice(call, appointment)
    if tries >= KEY_TRIES:
        note(call, "no-choice", "no choice made")
        return bye(f"To reach the office, call {templates.spoken_number(practice.callback_number)}."
                   if practice.callback_number else "", GOODBYE)
    sorry = "" if pressed == AGAIN else (
        "Sorry, that is not one of the choices." if pressed else "We did not hear a choice.")
    return person(call, event, tries + 1, sorry)


def confirmed(call: OutreachCall, appointment: Appointment) -> Script:
    appointments.confirm(appointment)
    settle(call, CallOutcome.CONFIRMED)
    return bye("Thank you. Your appointment is confirmed.", GOODBYE)


def cancelled(call: OutreachCall, appointment: Appointment) -> Script:
    appointments.cancel(appointment)
    settle(call, CallOutcome.CANCELLED)
    return bye("Your appointment is cancelled. Call the office to book another.", GOODBYE)


def reschedule(call: OutreachCall, appointment: Appointment) -> Script:
    request_reschedule(appointment)
    settle(call, CallOutcome.RESCHEDULE)
    return bye("Thank you. The office will call you to find a new time.", GOODBYE)


def request_reschedule(appointment: Appointment) -> None:
    """The patient asked for a new time: recorded on the appointment (the office calls
    back); its later reminders are not sent for a time the patient cannot make."""
    with transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(
            status=AppointmentStatus.RESCHEDULE_REQUESTED, updated_at=timezone.now())
        appointment.status = AppointmentStatus.RESCHEDULE_REQUESTED
        reminders.cancel_pending(appointment, reason="reschedule-requested")


def reschedule_asked(practice: Practice, event: CallEvent, at: Step) -> Appointment | None:
    """The appointment this step (just answered) asked to reschedule, if it did: for the
    edge to make the scheduling message (the inbox is below outreach's reach)."""
    if at.name != KEY or event.digits[:1] != RESCHEDULE:
        return None
    call = found(practice, at)
    if call is None or call.outcome != CallOutcome.RESCHEDULE:
        return None
    return appointment_of(call)


CHOICES: dict[str, Callable[[OutreachCall, Appointment], Script]] = {
    CONFIRM: confirmed, CANCEL: cancelled, RESCHEDULE: reschedule}

STEPS: dict[str, Callable[[Practice, CallEvent, Step], Script]] = {ANSWER: answer, KEY: key}


def continue_call(practice: Practice, event: CallEvent, at: Step) -> Script:
    """The step a request names; an unknown one hangs up, saying nothing."""
    handler = STEPS.get(at.name)
    return handler(practice, event, at) if handler else (Hangup(),)
