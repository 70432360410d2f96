"""What a patient's reply does, through the real webhook, worker and outbox: Walter Okafor
(whose mobile Riverside has verified) gets a reminder and answers it; Fatima at the front
desk booked the appointment; Lakeside, a second practice, has a patient with the same
number. The shared drill ``reminder-stop`` is run by the drill runner
(``tests.drills.support.drill``)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.utils import timezone

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox.models import Message
from clinicline.intake import texts
from clinicline.intake.models import InboundText
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery, Status
from clinicline.outreach import reminders, replies
from clinicline.outreach.appointment_models import (
    Appointment,
    AppointmentStatus,
    ReminderStatus,
)
from clinicline.patients import consent
from clinicline.patients import service as patients
from clinicline.patients.models import Channel, ConsentEntry, ContactPoint, Purpose, Source
from clinicline.practices.models import Provider
from tests.conftest import make_member, make_patient
from tests.drills.support import drill, failed, measured
from tests.gateways.test_webhooks import PATIENT, SMS, make_gateway, post, text
from tests.outreach.support import book, consents, row, walter

pytestmark = pytest.mark.django_db
SIDS = (f"SM{n:032x}" for n in itertools.count(1000))


@pytest.fixture
def gateway(practice):
    return make_gateway(practice, test_mode=True)


@pytest.fixture
def front_desk(practice):
    return make_member(practice, Role.FRONT_DESK, "fatima")


def texted(body: str, number: str = PATIENT) -> None:
    """The patient texts the practice; the worker handles it."""
    post(SMS, text(body, MessageSid=next(SIDS), From=number))
    texts.handle_texts()


def reminded_walter(practice, front_desk, external_id="A-1001", patient=None) -> Appointment:
    """Walter's appointment in three days, its week-ahead reminder texted now (late, so at
    once) and its two-day reminder still to come."""
    # Inside the 08:00-21:00 window whenever the suite runs, and before the reply (which
    # answers only a reminder that has gone): now, or the last 08:30 before now.
    local = timezone.localtime(timezone.now(), practice.tz)
    if not 8 <= local.hour < 20:
        local = (local - dt.timedelta(hours=12)).replace(hour=8, minute=30, second=0)
    with time_machine.travel(local, tick=False):
        patient = patient or walter(practice)
        consents(patient, front_desk)  # reminders go only where the patient agreed
        Provider.objects.get_or_create(practice=practice, display_name="Dr. Amara Osei")
        book(practice, front_desk, row(external_id=external_id, in_days=3, mrn=patient.mrn))
        reminders.send_due()
    appointment = Appointment.objects.get(practice=practice, external_id=external_id)
    assert appointment.reminders.filter(status=ReminderStatus.SENT).count() == 1
    return appointment


def answers(purpose: str) -> list[Delivery]:
    return list(Delivery.objects.filter(purpose=purpose).order_by("created_at"))


# --- opting out and back in --------------------------------------------------------------

def test_stop_is_written_to_the_ledger_and_answered_once(gateway, practice):
    patient = walter(practice)
    texted("STOP")
    (entry,) = ConsentEntry.objects.filter(source=Source.SMS_KEYWORD)
    assert (entry.patient_id, entry.granted, entry.channel, entry.purpose, entry.evidence) == (
        patient.pk, False, Channel.SMS, Purpose.ALL, "STOP reply")
    (confirmation,) = answers(outbox.OPT_OUT_CONFIRMATION)
    assert str(confirmation.body) == ("You will no longer get texts from Riverside Family "
                                      "Medicine. Reply START to get them again.")
    outbox.send_due()
    confirmation.refresh_from_db()
    assert confirmation.status == Status.SENT  # let through, though the number opted out
    assert not consent.state(patient, Channel.SMS, Purpose.APPOINTMENT_REMINDERS).allowed


def test_a_second_stop_is_recorded_but_not_answered_again(gateway, practice):
    walter(practice)
    texted("STOP")
    texted("please stop texting me")
    assert ConsentEntry.objects.filter(source=Source.SMS_KEYWORD, granted=False).count() == 2
    assert len(answers(outbox.OPT_OUT_CONFIRMATION)) == 1  # one confirmation, nothing after


@pytest.mark.parametrize("body", ["no more messages", "remove me from this list", "ALTO",
                                  "PARAR", "CANCELAR", "quit", "REVOKE", "optout"])
def test_plain_language_and_spanish_opt_outs_stop_the_number(gateway, practice, body):
    patient = walter(practice)
    texted(body)
    assert not consent.state(patient, Channel.SMS, Purpose.APPOINTMENT_REMINDERS).allowed
    assert not Message.objects.exists()
    # Answered in Walter's language (English), whichever language the keyword was in.
    assert len(answers(outbox.OPT_OUT_CONFIRMATION)) == 1


def test_a_stop_from_a_number_nobody_has_is_kept_for_the_number(gateway, practice):
    texted("STOP", number="+16175550199")
    (entry,) = ConsentEntry.objects.filter(source=Source.SMS_KEYWORD)
    assert entry.patient_id is None and entry.number_index
    assert outbox.opted_out(practice, "+16175550199") == entry
    assert len(answers(outbox.OPT_OUT_CONFIRMATION)) == 1


def test_a_text_queued_before_the_stop_does_not_go_after_it(gateway, practice):
    patient = walter(practice)
    queued = outbox.enqueue(practice, channel="sms", to=PATIENT, body="Please call us.",
                            purpose="reminder", idempotency_key="before-stop", patient=patient,
                            due_at=timezone.now() + dt.timedelta(minutes=1))
    texted("STOP")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        outbox.send_due()
    queued.refresh_from_db()
    assert (queued.status, queued.error) == (Status.FAILED, outbox.OPTED_OUT)
    refused = AuditEvent.objects.get(action=Action.DELIVERY_REFUSED, object_id=str(queued.pk))
    assert refused.reason == "opted-out"
    (confirmation,) = answers(outbox.OPT_OUT_CONFIRMATION)
    confirmation.refresh_from_db()
    assert confirmation.status == Status.SENT


def test_a_stop_to_one_practice_leaves_another_practices_texts_alone(gateway, practice,
                                                                    other_practice):
    make_patient(other_practice, mrn="LP-1")  # the same mobile, at Lakeside
    texted("STOP")
    assert outbox.opted_out(practice, PATIENT) is not None
    assert outbox.opted_out(other_practice, PATIENT) is None


@pytest.mark.parametrize("word", ["START", "yes", "Unstop"])
def test_start_after_stop_lifts_the_opt_out_and_says_so(gateway, practice, word):
    walter(practice)
    texted("STOP")
    texted(word)
    assert outbox.opted_out(practice, PATIENT) is None
    (confirmation,) = answers(replies.REPLY_PURPOSE)
    assert str(confirmation.body) == ("You will get texts from Riverside Family Medicine "
                                      "again. Reply STOP to opt out.")
    later = outbox.enqueue(practice, channel="sms", to=PATIENT, body="Please call us.",
                           purpose="reminder", idempotency_key="after-start")
    outbox.send_due()
    later.refresh_from_db()
    assert later.status == Status.SENT


@pytest.mark.parametrize("word", ["HELP", "info", "Help!"])
def test_help_answers_with_the_practices_name_and_number_even_after_stop(gateway, practice,
                                                                         word):
    texted("STOP")
    texted(word)
    (help_answer,) = answers(outbox.HELP_ANSWER)
    assert str(help_answer.body).startswith("Riverside Family Medicine: for help call "
                                            "617-555-0100.")
    outbox.send_due()
    help_answer.refresh_from_db()
    assert help_answer.status == Status.SENT


def test_a_practice_that_keeps_its_name_out_of_texts_answers_without_it(gateway, practice):
    practice.name_in_messages = False
    practice.save()
    texted("STOP")
    texted("HELP")
    bodies = " ".join(str(d.body) for d in Delivery.objects.all())
    assert "Riverside" not in bodies and "this number" in bodies


# --- in the patient's language -------------------------------------------------------------

ES_STOP = ("Ya no recibirá mensajes de Riverside Family Medicine. Responda START para "
           "recibirlos de nuevo.")
ES_HELP = ("Riverside Family Medicine: para recibir ayuda, llame al 617-555-0100. Los "
           "mensajes de texto no son para emergencias: llame al 911. Responda STOP para "
           "darse de baja.")
EN_STOP = ("You will no longer get texts from Riverside Family Medicine. Reply START to get "
           "them again.")
EN_HELP = ("Riverside Family Medicine: for help call 617-555-0100. Texts are not for "
           "emergencies: call 911. Reply STOP to opt out.")


def prefers(patient, language: str) -> None:
    assert consent.set_preferences(patient, language=language) == ["language"]


def bodies(purpose: str) -> list[str]:
    return [str(d.body) for d in answers(purpose)]


def test_a_spanish_speaking_patients_stop_and_help_are_answered_in_spanish(gateway, practice):
    prefers(walter(practice), "es")
    texted("STOP")
    texted("HELP")
    assert bodies(outbox.OPT_OUT_CONFIRMATION) == [ES_STOP]
    assert bodies(outbox.HELP_ANSWER) == [ES_HELP]
    texted("START")
    assert bodies(replies.REPLY_PURPOSE) == [
        "Recibirá mensajes de Riverside Family Medicine de nuevo. Responda STOP para darse "
        "de baja."]
    outbox.send_due()  # the guard passes the Spanish words as it does the English
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.parametrize("stop, help_word", [("STOP", "HELP"), ("ALTO", "AYUDA")])
def test_a_patient_who_prefers_english_is_answered_in_english(gateway, practice, stop,
                                                              help_word):
    """Even to a Spanish keyword: the patient's language is the one on their record, the
    one their reminders come in (English unless the practice recorded another)."""
    walter(practice)
    texted(stop)
    texted(help_word)
    assert bodies(outbox.OPT_OUT_CONFIRMATION) == [EN_STOP]
    assert bodies(outbox.HELP_ANSWER) == [EN_HELP]


def walters_daughter(practice):
    """Amara, Walter's daughter, with his mobile on her record."""
    child = make_patient(practice, given="Amara", family="Okafor", dob=dt.date(2015, 3, 1),
                         mrn="RFM-200", phone="")
    patients.add_contact(child, ContactPoint.Kind.PHONE, PATIENT, label="mobile",
                         verified_at=timezone.now())
    return child


def test_a_number_shared_by_a_spanish_and_an_english_speaker_is_answered_in_english(
        gateway, practice):
    prefers(walter(practice), "es")
    walters_daughter(practice)  # her record says English
    texted("ALTO")  # nor does a Spanish keyword say which of the two wrote it
    texted("AYUDA")
    assert bodies(outbox.OPT_OUT_CONFIRMATION) == [EN_STOP]
    assert bodies(outbox.HELP_ANSWER) == [EN_HELP]


def test_a_shared_number_whose_patients_both_prefer_spanish_is_answered_in_spanish(
        gateway, practice):
    prefers(walter(practice), "es")
    child = walters_daughter(practice)
    prefers(child, "es")
    texted("STOP")
    assert bodies(outbox.OPT_OUT_CONFIRMATION) == [ES_STOP]


@pytest.mark.parametrize("stop, help_word, expected", [("ALTO", "AYUDA", (ES_STOP, ES_HELP)),
                                                       ("STOP", "HELP", (EN_STOP, EN_HELP))])
def test_a_number_nobody_has_is_answered_in_the_keywords_language(gateway, practice, stop,
                                                                  help_word, expected):
    texted(stop, number="+16175550199")
    texted(help_word, number="+16175550199")
    assert (*bodies(outbox.OPT_OUT_CONFIRMATION), *bodies(outbox.HELP_ANSWER)) == expected


def test_another_practices_spanish_speaker_with_the_number_does_not_change_the_answer(
        gateway, practice, other_practice):
    prefers(make_patient(other_practice, mrn="LP-1"), "es")  # the same mobile, at Lakeside
    texted("HELP")
    assert bodies(outbox.HELP_ANSWER) == [EN_HELP]


def test_spanish_help_from_a_practice_that_keeps_its_name_out_of_texts(gateway, practice):
    practice.name_in_messages = False
    practice.save()
    prefers(walter(practice), "es")
    texted("STOP")
    texted("HELP")
    assert bodies(outbox.OPT_OUT_CONFIRMATION) == [
        "Ya no recibirá mensajes de este número. Responda START para recibirlos de nuevo."]
    (help_answer,) = bodies(outbox.HELP_ANSWER)
    assert help_answer.startswith("Nuestro consultorio: para recibir ayuda, llame al ")
    outbox.send_due()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_spanish_speakers_c_is_answered_in_spanish(gateway, practice, front_desk):
    patient = walter(practice)
    prefers(patient, "es")
    reminded_walter(practice, front_desk, patient=patient)
    texted("C")
    assert bodies(replies.REPLY_PURPOSE) == ["Gracias: su cita está confirmada."]


# --- reminder replies ----------------------------------------------------------------------

@pytest.mark.parametrize("word", ["C", "1", "c.", "Confirm"])
def test_c_confirms_the_reminded_appointment_and_skips_its_later_reminder(
        gateway, practice, front_desk, word):
    appointment = reminded_walter(practice, front_desk)
    texted(word)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.reminders.filter(status=ReminderStatus.SKIPPED_CONFIRMED).count() == 1
    (answer,) = answers(replies.REPLY_PURPOSE)
    assert str(answer.body) == "Thank you: your appointment is confirmed."
    assert not Message.objects.exists()
    event = AuditEvent.objects.get(action=Action.SMS_REPLY)
    assert event.object_id == str(appointment.pk) and "Walter" not in event.reason


@pytest.mark.parametrize("word", ["2", "cancel my appointment"])
def test_2_cancels_the_appointment_and_its_pending_reminders(gateway, practice, front_desk,
                                                             word):
    appointment = reminded_walter(practice, front_desk)
    texted(word)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert not appointment.reminders.filter(status=ReminderStatus.PENDING).exists()
    assert outbox.opted_out(practice, PATIENT) is None  # the texts themselves go on
    (answer,) = answers(replies.REPLY_PURPOSE)
    assert "cancelled" in str(answer.body) and "617-555-0100" in str(answer.body)


@pytest.mark.parametrize("word", ["R", "3"])
def test_r_asks_to_reschedule_in_the_scheduling_queue(gateway, practice, front_desk, word):
    appointment = reminded_walter(practice, front_desk)
    texted(word)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.RESCHEDULE_REQUESTED
    message = Message.objects.get()
    assert message.team.slug == "scheduling" and message.call_type == "scheduling"
    assert message.patient_id == appointment.patient_id
    assert [t["from"] for t in message.conversation] == ["caller", "clinicline"]
    assert "Dr. Amara Osei" in message.conversation[1]["body"]
    (answer,) = answers(replies.REPLY_PURPOSE)
    assert "scheduling team will contact you" in str(answer.body)


def test_a_bare_cancel_after_a_reminder_is_the_carriers_opt_out(gateway, practice,
                                                               front_desk):
    appointment = reminded_walter(practice, front_desk)
    texted("CANCEL")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert outbox.opted_out(practice, PATIENT) is not None


def test_a_reply_for_two_appointments_reminded_at_once_goes_to_the_inbox(gateway, practice,
                                                                        front_desk):
    """A parent whose two children share the mobile: "C" could mean either."""
    first = reminded_walter(practice, front_desk)
    child = walters_daughter(practice)
    second = reminded_walter(practice, front_desk, external_id="A-2002", patient=child)
    texted("C")
    for appointment in (first, second):
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.BOOKED
    assert [t["body"] for t in Message.objects.get().conversation] == ["C"]


def test_a_reply_after_the_appointment_has_passed_goes_to_the_inbox(gateway, practice,
                                                                   front_desk):
    appointment = reminded_walter(practice, front_desk)
    with time_machine.travel(appointment.starts_at + dt.timedelta(hours=1)):
        texted("C")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert Message.objects.count() == 1


def test_a_reply_never_touches_another_practices_appointment(gateway, practice, other_practice,
                                                             front_desk):
    lakeside_desk = make_member(other_practice, Role.FRONT_DESK, "lakeside-desk")
    theirs = reminded_walter(other_practice, lakeside_desk)
    texted("C")  # to Riverside's number
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.BOOKED
    assert Message.objects.get().practice == practice


# --- the shared drill ------------------------------------------------------------------------

def test_drill_reminder_stop(gateway, practice):
    """The drill runner's reminder-stop in this practice: the reminder goes, STOP is
    answered within five minutes, the next day's reminder is withheld as opted out."""
    report = drill("reminder-stop", practice)
    assert failed(report) == []
    found = measured(report)
    assert (found["sent"], found["withheld"], found["withheld_reason"]) == (2, 1, ["opted-out"])
    assert found["secrets"] == "none sent, none in plain text"
    sent = Delivery.objects.filter(status__in=[Status.SENT, Status.DELIVERED])
    assert sorted(d.purpose for d in sent) == sorted(["appointment-reminders",
                                                      outbox.OPT_OUT_CONFIRMATION])
    stop = InboundText.objects.get(practice=practice)
    confirmation = sent.get(purpose=outbox.OPT_OUT_CONFIRMATION)
    assert confirmation.sent_at - stop.received_at <= dt.timedelta(minutes=5)
    (entry,) = ConsentEntry.objects.filter(source=Source.SMS_KEYWORD)
    assert (entry.granted, entry.evidence, entry.at) == (False, "STOP reply", stop.received_at)
