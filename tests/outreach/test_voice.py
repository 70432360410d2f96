"""A voice reminder: a person hears it and presses 1, 2 or 3; a machine gets the voicemail
script only where voicemail consent exists at that moment, else nothing. Every call runs
through the loopback carrier and the real, signed outreach webhook."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinicline.audit.models import Action, AuditEvent
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.inbox.models import Message
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery
from clinicline.outbox.voice import CallEvent, Step
from clinicline.outreach import decisions, results, voice
from clinicline.outreach.appointment_models import AppointmentStatus, ReminderStatus
from clinicline.outreach.kinds import Reason
from clinicline.outreach.templates import Values
from clinicline.outreach.voice_models import CallOutcome, OutreachCall
from clinicline.patients.models import Channel, ContactPreference, Purpose
from clinicline.practices.models import Provider
from clinicline.simulator.carrier import post_webhook
from tests.conftest import phi_in_audit
from tests.outreach.support import walter
from tests.outreach.voice_support import (
    booked_reminder,
    consent_to,
    pick_up,
    press,
    rung,
    said,
)
from tests.simulator.test_calls import account  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
REMINDERS = Purpose.APPOINTMENT_REMINDERS
SECRETS = ("Walter", "Okafor", "1958")
DAYTIME = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)  # 10:00 in Boston


@pytest.fixture
def reminder(practice, practice_admin):
    return booked_reminder(practice, practice_admin)


@pytest.fixture
def ringing(account, reminder):  # noqa: F811 (the fixture above)
    return rung(account, reminder)


def steps(call: OutreachCall) -> list[tuple[str, str]]:
    return list(call.steps.values_list("step", "detail"))


def test_a_person_hears_the_reminder_and_the_choices(account, ringing):  # noqa: F811
    heard = said(pick_up(account, human=True))
    assert "Riverside Family Medicine with a reminder of your appointment with Dr. Amara " \
           "Osei" in heard
    assert "To confirm, press 1. To cancel, press 2. To reschedule, press 3." in heard
    assert "6 1 7, 5 5 5, 0 1 0 0" in heard  # the callback number, digit by digit
    assert not any(s in heard for s in SECRETS)
    first = InboundWebhook.objects.get(kind=Kind.OUTREACH)
    assert first.params["AnsweredBy"] == "human"
    ringing.refresh_from_db()
    assert ringing.outcome == CallOutcome.SPOKEN
    assert [s for s, _ in steps(ringing)] == ["placed", "human", "spoken"]


def test_1_confirms_and_skips_the_later_reminder(account, reminder, ringing):  # noqa: F811
    pick_up(account, human=True)
    assert "Your appointment is confirmed." in said(press(account, "1"))
    reminder.appointment.refresh_from_db()
    assert reminder.appointment.status == AppointmentStatus.CONFIRMED
    later = reminder.appointment.reminders.exclude(pk=reminder.pk).get()
    assert later.status == ReminderStatus.SKIPPED_CONFIRMED
    ringing.refresh_from_db()
    assert ringing.outcome == CallOutcome.CONFIRMED
    event = AuditEvent.objects.get(action=Action.OUTREACH_CALL_KEY)
    assert event.reason == "pressed 1" and not phi_in_audit(event, SECRETS)


def test_2_cancels(account, reminder, ringing):  # noqa: F811
    pick_up(account, human=True)
    assert "Your appointment is cancelled." in said(press(account, "2"))
    reminder.appointment.refresh_from_db()
    assert reminder.appointment.status == AppointmentStatus.CANCELLED


def test_3_asks_to_reschedule(account, reminder, ringing):  # noqa: F811
    pick_up(account, human=True)
    assert "The office will call you to find a new time." in said(press(account, "3"))
    reminder.appointment.refresh_from_db()
    assert reminder.appointment.status == AppointmentStatus.RESCHEDULE_REQUESTED
    assert not reminder.appointment.reminders.filter(status=ReminderStatus.PENDING).exists()
    ringing.refresh_from_db()
    assert ringing.outcome == CallOutcome.RESCHEDULE
    # A message in the scheduling queue, so the front desk calls back.
    message = Message.objects.get()
    assert message.team.slug == "scheduling" and message.call_type == "scheduling"
    assert message.fields["callback_number"] == "+16175550142"
    assert message.fields["patient_name"] == "Walter Okafor"
    assert str(reminder.appointment.pk) in message.triage["said"][0]
    assert message.patient_id == reminder.appointment.patient_id  # a text's R does the same


def test_a_wrong_key_replays_once_then_says_goodbye(account, reminder, ringing):  # noqa: F811
    pick_up(account, human=True)
    again = said(press(account, "7"))
    assert again.startswith("Sorry, that is not one of the choices.") and "press 1" in again
    assert "Goodbye." in said(press(account, "8"))
    reminder.appointment.refresh_from_db()
    assert reminder.appointment.status == AppointmentStatus.BOOKED


def test_a_machine_gets_the_voicemail_script_with_voicemail_consent(
        account, reminder, practice_admin):  # noqa: F811
    consent_to(reminder.appointment.patient, Channel.VOICEMAIL, REMINDERS, practice_admin)
    call = rung(account, reminder)
    heard = said(pick_up(account, human=False))
    assert heard == ("Hello, this is a message from Dr. Amara Osei's office regarding your "
                     "appointment. Please call us back at 6 1 7, 5 5 5, 0 1 0 0. Thank you.")
    call.refresh_from_db()
    assert call.outcome == CallOutcome.VOICEMAIL
    assert ("voicemail", "the voicemail script was left") in steps(call)


def test_a_machine_without_voicemail_consent_gets_nothing(account, ringing):  # noqa: F811
    answer = pick_up(account, human=False)
    assert said(answer) == "" and [s.verb for s in answer.steps] == ["hangup"]
    ringing.refresh_from_db()
    assert ringing.outcome == CallOutcome.NO_VOICEMAIL
    assert ("no-voicemail", voice.NO_CONSENT) in steps(ringing)


def test_consent_is_read_when_the_machine_answers_not_when_the_call_was_placed(
        account, reminder, practice_admin):  # noqa: F811
    patient = reminder.appointment.patient
    consent_to(patient, Channel.VOICEMAIL, REMINDERS, practice_admin)
    call = rung(account, reminder)
    consent_to(patient, Channel.VOICEMAIL, REMINDERS, practice_admin, granted=False)
    assert said(pick_up(account, human=False)) == ""
    call.refresh_from_db()
    assert call.outcome == CallOutcome.NO_VOICEMAIL


def test_do_not_leave_voicemail_wins_over_consent(account, reminder, practice_admin):  # noqa: F811
    patient = reminder.appointment.patient
    consent_to(patient, Channel.VOICEMAIL, REMINDERS, practice_admin)
    ContactPreference.objects.update_or_create(
        practice=patient.practice, patient=patient, defaults={"do_not_leave_voicemail": True})
    call = rung(account, reminder)
    assert said(pick_up(account, human=False)) == ""
    assert ("no-voicemail", "no voicemail left: the patient asked for none") in steps(call)


def test_the_call_asks_the_carrier_for_machine_detection_and_holds_ids_only(
        reminder):
    call = voice.place_reminder_call(reminder, to="+16175550142")
    delivery = Delivery.objects.get()
    assert delivery.call_step == f"call={call.pk}" and delivery.purpose == voice.PURPOSE
    assert "Walter" not in delivery.call_step


def test_a_key_step_from_another_call_does_nothing(account, reminder, ringing):  # noqa: F811
    """The proof is bound to the carrier's call id: a step URL replayed on another call
    hangs up and changes nothing."""
    forged = Step.of(voice.KEY, call=ringing.pk, ok=voice.proof("CAother", ringing))
    script = voice.key(reminder.practice, CallEvent(call_sid="CAmine", digits="2"), forged)
    assert [type(v).__name__ for v in script] == ["Hangup"]
    reminder.appointment.refresh_from_db()
    assert reminder.appointment.status == AppointmentStatus.BOOKED


def test_another_practices_call_id_finds_nothing(account, other_practice, ringing):  # noqa: F811
    script = voice.answer(other_practice, CallEvent(call_sid="CA1", answered_by="human"),
                          Step.of(voice.ANSWER, call=ringing.pk))
    assert [type(v).__name__ for v in script] == ["Hangup"]


def test_a_forged_outreach_webhook_is_refused(client, account, ringing):  # noqa: F811
    response = client.post(reverse("gateways:twilio_outreach") + f"?call={ringing.pk}",
                           {"From": account.phone_number, "To": "+16175550142",
                            "CallSid": "CA" + "2" * 32, "AnsweredBy": "human"},
                           HTTP_X_TWILIO_SIGNATURE="forged")
    assert response.status_code == 403


def test_an_unknown_step_hangs_up(account, ringing):  # noqa: F811
    path = reverse("gateways:twilio_outreach") + "?step=nonsense&call=not-a-uuid"
    twiml = post_webhook(account, path, {"From": account.phone_number, "To": "+16175550142",
                                         "CallSid": "CA" + "3" * 32, "CallStatus": "in-progress"})
    assert "<Hangup" in twiml and "<Say" not in twiml


def test_a_person_answering_a_results_call_hears_only_that_results_are_ready(
        account, practice, nurse):  # noqa: F811
    patient = walter(practice)
    consent_to(patient, Channel.VOICE, Purpose.RESULTS_READY, nurse)
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    with time_machine.travel(DAYTIME, tick=True):  # the decision's quiet hours
        asked = results.request(practice, patient, by=nurse, channel="voice", provider=osei)
        assert asked.decision.outcome == "sent"
        assert outbox.send_due() == 1
        answer = pick_up(account, human=True)
    assert said(answer) == ("Hello, this is Riverside Family Medicine. Your results are "
                            "ready. Please call the office at 6 1 7, 5 5 5, 0 1 0 0. Thank you.")
    assert answer.steps[-1].verb == "hangup" and answer.gather is None
    assert asked.call is not None
    asked.call.refresh_from_db()
    assert asked.call.outcome == CallOutcome.SPOKEN


def care_team_voicemail(practice, nurse):
    """Walter agreed to voicemails from his care team; the nurse sends one naming Dr. Osei's
    office, and the carrier rings his phone."""
    patient = walter(practice)
    consent_to(patient, Channel.VOICEMAIL, Purpose.CARE_TEAM, nurse)
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    decision = decisions.send(practice, patient, purpose=Purpose.CARE_TEAM,
                              channel=Channel.VOICEMAIL, reason=Reason.CARE_TEAM,
                              values=Values(provider=osei), idempotency_key="care-1")
    assert decision.outcome == "sent"
    assert outbox.send_due() == 1
    return decision


def test_a_care_team_voicemail_is_a_call_that_leaves_the_voicemail_words_on_a_machine(
        account, practice, nurse):  # noqa: F811
    with time_machine.travel(DAYTIME, tick=True):  # the decision's quiet hours
        decision = care_team_voicemail(practice, nurse)
        heard = said(pick_up(account, human=False))
    assert heard == ("Hello, this is a message from Dr. Amara Osei's office regarding a "
                     "message from your care team. Please call us back at 6 1 7, 5 5 5, "
                     "0 1 0 0. Thank you.")
    call = OutreachCall.objects.get()
    assert call.outcome == CallOutcome.VOICEMAIL and call.delivery == decision.delivery
    assert ("voicemail", "the voicemail script was left") in steps(call)


def test_a_care_team_voicemail_revoked_before_the_machine_answers_leaves_nothing(
        account, practice, nurse):  # noqa: F811
    with time_machine.travel(DAYTIME, tick=True):
        decision = care_team_voicemail(practice, nurse)
        consent_to(decision.patient, Channel.VOICEMAIL, Purpose.CARE_TEAM, nurse,
                   granted=False)
        answer = pick_up(account, human=False)
    assert said(answer) == "" and [s.verb for s in answer.steps] == ["hangup"]
    call = OutreachCall.objects.get()
    assert call.outcome == CallOutcome.NO_VOICEMAIL
    assert ("no-voicemail", voice.NO_CONSENT) in steps(call)


def test_a_person_answering_a_care_team_voicemail_call_hears_the_call_words(
        account, practice, nurse):  # noqa: F811
    with time_machine.travel(DAYTIME, tick=True):
        care_team_voicemail(practice, nurse)
        answer = pick_up(account, human=True)
    assert said(answer) == ("Hello, this is Riverside Family Medicine calling about a message "
                            "from your care team. Please call us back at 6 1 7, 5 5 5, "
                            "0 1 0 0. Thank you.")
    call = OutreachCall.objects.get()
    assert call.outcome == CallOutcome.SPOKEN
    assert ("spoken", "the care-team words were said") in steps(call)
