"""A drill's outreach: staff ask to send, the sending decision and the outbox decide, the
loopback gateway carries, the simulator's phone answers (or its answering machine does),
and the patient's replies come back through the inbound text path.

The patient is the drill's own, made inside the rolled-back scenario with the consents the
request describes: a drill never reads or texts a real patient.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from clinicline.drills.scenario import Scenario
from clinicline.drills.world import World
from clinicline.intake import texts
from clinicline.intake.models import InboundText
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel, Status
from clinicline.outreach import results
from clinicline.outreach.appointment_models import Appointment, Reminder, ReminderStatus
from clinicline.outreach.decision_models import Outcome
from clinicline.patients import consent
from clinicline.patients import service as patients
from clinicline.patients.models import Channel as ConsentChannel
from clinicline.patients.models import ContactPoint, Patient, Purpose, Source
from clinicline.practices.models import Provider
from clinicline.simulator import calls, history

DRILL_MOBILE = "+16175550177"  # a fictitious number (555-01xx) on the simulator
DEFAULT_BIRTH = "1980-01-01"
REPLY_AFTER = dt.timedelta(minutes=20)  # the patient answers the text a while later
CONSENTS = {"patient_consents_to_sms": (ConsentChannel.SMS, Purpose.APPOINTMENT_REMINDERS),
            "patient_consents_to_voicemail": (ConsentChannel.VOICEMAIL, Purpose.RESULTS_READY)}


def local(world: World, value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=world.practice.tz)


def drill_patient(world: World, request: dict[str, Any], by: Any) -> Patient:
    """The request's patient, made for the drill: a verified mobile on the simulator and
    the consents the request states, granted a month before (and never in the future)."""
    given, family = request["patient_name"].split(maxsplit=1)
    patient = patients.create_patient(
        world.practice, given_name=given, family_name=family, mrn=f"DRILL-{uuid.uuid4().hex[:8]}",
        date_of_birth=dt.date.fromisoformat(request.get("date_of_birth", DEFAULT_BIRTH)))
    earlier = min(world.clock.now(), timezone.now()) - dt.timedelta(days=30)
    patients.add_contact(patient, ContactPoint.Kind.PHONE, DRILL_MOBILE, label="mobile",
                         verified_at=earlier)
    for key, (channel, purpose) in CONSENTS.items():
        if request.get(key):
            consent.record(patient, channel=channel, purpose=purpose, granted=True,
                           source=Source.REGISTRATION, by=by, at=earlier)
    return patient


def provider(world: World, name: str) -> Provider:
    found, _ = Provider.objects.get_or_create(practice=world.practice, display_name=name)
    return found


def results_call(world: World, scenario: Scenario) -> list[str]:
    """Results ready by phone; the simulator's phone rings and a person or the answering
    machine takes it. Returns what the phone heard."""
    request = scenario.get("request")
    nurse = world.member("nurse")
    patient = drill_patient(world, request, nurse)
    channel = request["channel"]
    asked = results.request(world.practice, patient, by=nurse, channel=channel,
                            provider=provider(world, request["provider"]) if "provider" in request
                            else None, now=world.clock.now())
    if asked.decision.outcome != Outcome.SENT:
        # Withheld, or deferred by quiet hours: either way nothing goes out in the drill.
        world.withheld.append(asked.decision.reason)
        return []
    world.worker_pass()
    if channel == "sms":
        return []
    account = world.gateway()
    ring = history.ringing(world.practice, history.number_index(world.practice.pk,
                                                                DRILL_MOBILE))
    if ring is None:
        world.notes.append("the patient's phone did not ring")
        return []
    answer = calls.answer_call(account, DRILL_MOBILE, ring,
                               human=bool(request.get("patient_answers_call")))
    return [step.text for step in answer.steps if step.text]


def reminders_with_replies(world: World, scenario: Scenario) -> list[str]:
    """The appointment's reminders at their times, and the patient's replies after the
    first, each through the webhook's domain half and the worker."""
    request = scenario.get("request")
    patient = drill_patient(world, request, world.member("front-desk"))
    starts = local(world, request["appointment_at"])
    appointment = Appointment.objects.create(
        practice=world.practice, patient=patient, provider=provider(world, request["provider"]),
        starts_at=starts, external_id=f"DRILL-{uuid.uuid4().hex[:8]}")
    first = world.clock.start
    times = [first, *([local(world, request["second_reminder_at"])]
                      if "second_reminder_at" in request else [])]
    for send_at in times:
        world.reminders.append(Reminder.objects.create(
            practice=world.practice, appointment=appointment, for_starts_at=starts,
            offset_h=int((starts - send_at).total_seconds() // 3600), send_at=send_at).pk)
    world.run_until(first + REPLY_AFTER)
    for body in scenario.get("replies") or []:
        world.texts.append(InboundText.objects.filter(practice=world.practice).filter(
            message_sid=reply(world, body)).values_list("pk", flat=True).get())
    world.run_until(times[-1] + dt.timedelta(minutes=5), idle_stop=True)
    return []


def reply(world: World, body: str) -> str:
    sid = "SM" + uuid.uuid4().hex
    texts.receive_text(world.practice.pk, message_sid=sid, sender=DRILL_MOBILE, body=body,
                       at=world.clock.now())
    return sid


def withheld_reasons(world: World) -> list[str]:
    """Why each withheld message was: the reminder's recorded decision, or the outbox's
    look at the number (opted out) or its last screen (PHI) when the text fell due."""
    found = list(Reminder.objects.filter(pk__in=world.reminders, status=ReminderStatus.WITHHELD)
                 .values_list("reason", flat=True))
    for delivery in world.deliveries().filter(status=Status.FAILED):
        if delivery.error == outbox.OPTED_OUT:
            found.append("opted-out")
        elif delivery.error.startswith("withheld: looks like PHI"):
            found.append("phi")
    return found + world.withheld


def run_outreach(world: World, scenario: Scenario) -> dict[str, Any]:
    heard = (reminders_with_replies(world, scenario)
             if scenario.get("request")["purpose"] == "appointment-reminder"
             else results_call(world, scenario))
    sent = world.deliveries().filter(status__in=[Status.SENT, Status.DELIVERED]).exclude(
        channel=Channel.IN_APP)
    reasons = withheld_reasons(world)
    return {"sent": sent.count(), "withheld": len(reasons), "withheld_reason": reasons,
            "script_contains": heard}
