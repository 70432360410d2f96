"""A reminder goes on the channel the patient prefers and consented to: a call for Walter,
who would rather be phoned, once he agreed to reminder calls; a text otherwise. The call is
placed only after the same decision a text gets (consent, quiet hours, caps, the guard)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery
from clinicline.outreach import decisions, reminders
from clinicline.outreach.appointment_models import Reminder, ReminderStatus
from clinicline.outreach.decision_models import Outcome, SendDecision
from clinicline.outreach.voice_models import OutreachCall
from clinicline.patients import consent
from tests.conftest import make_patient
from tests.outreach.support import WALTER_MOBILE, consents, walter
from tests.outreach.test_appointments_reminders import WEEK_BEFORE, booked, front_desk

__all__ = ["front_desk"]  # the fixture, used by name below


def prefers_calls(patient, by, *, consented: bool = True):
    consent.set_preferences(patient, actor=by, preferred_channel="voice")
    if consented:
        consents(patient, by, channel="voice")
    return patient


def week_reminder(appointment) -> Reminder:
    return Reminder.objects.get(appointment=appointment, offset_h=168)


@pytest.mark.django_db
def test_a_patient_who_prefers_calls_and_agreed_to_them_is_called(practice, front_desk):
    patient = prefers_calls(walter(practice), front_desk)
    appointment = booked(practice, front_desk, patient)
    assert reminders.send_due(now=WEEK_BEFORE) == 1
    reminder = week_reminder(appointment)
    assert reminder.status == ReminderStatus.SENT
    call = OutreachCall.objects.get(reminder=reminder)
    assert (reminder.delivery_id, reminder.delivery.channel, reminder.delivery.to) == (
        call.delivery_id, "voice", WALTER_MOBILE)
    decision = SendDecision.objects.get(reminder=reminder)
    assert (decision.channel, decision.outcome, decision.delivery_id) == (
        "voice", Outcome.SENT, call.delivery_id)
    assert not Delivery.objects.filter(channel="sms").exists()  # called, not also texted


@pytest.mark.django_db
def test_a_preference_for_calls_without_consent_to_them_gets_the_text(practice, front_desk):
    patient = prefers_calls(walter(practice), front_desk, consented=False)
    appointment = booked(practice, front_desk, patient)
    reminders.send_due(now=WEEK_BEFORE)
    reminder = week_reminder(appointment)
    assert (reminder.status, reminder.delivery.channel) == (ReminderStatus.SENT, "sms")
    assert not OutreachCall.objects.exists()


@pytest.mark.django_db
def test_a_revoked_call_consent_falls_back_to_the_text(practice, front_desk):
    patient = prefers_calls(walter(practice), front_desk)
    consent.record(patient, channel="voice", purpose="appointment-reminders", granted=False,
                   source="verbal", by=front_desk, evidence="asked on the phone",
                   at=WEEK_BEFORE - dt.timedelta(hours=2))
    appointment = booked(practice, front_desk, patient)
    reminders.send_due(now=WEEK_BEFORE)
    assert week_reminder(appointment).delivery.channel == "sms"
    assert not OutreachCall.objects.exists()


@pytest.mark.django_db
def test_a_call_at_night_waits_for_the_morning_and_is_placed_then(practice, front_desk):
    patient = prefers_calls(walter(practice), front_desk)
    appointment = booked(practice, front_desk, patient)
    night = WEEK_BEFORE + dt.timedelta(hours=8)  # 22:30 in Boston
    reminders.send_due(now=night)
    reminder = week_reminder(appointment)
    assert reminder.status == ReminderStatus.DEFERRED
    assert not OutreachCall.objects.exists()
    deferred = SendDecision.objects.get(reminder=reminder, outcome=Outcome.DEFERRED)
    assert deferred.channel == "voice"
    assert decisions.send_deferred(now=deferred.due_at) == 1
    reminder.refresh_from_db()
    call = OutreachCall.objects.get(reminder=reminder)
    assert (reminder.status, reminder.delivery_id) == (ReminderStatus.SENT, call.delivery_id)


@pytest.mark.django_db
def test_a_batch_reads_its_patients_preferences_once(practice, front_desk):
    for n in range(3):
        patient = walter(practice) if n == 0 else make_patient(practice, mrn=f"RFM-20{n}")
        booked(practice, front_desk, patient, external_id=f"A-{n}")
    with CaptureQueriesContext(connection) as queries:
        assert reminders.send_due(now=WEEK_BEFORE) == 3
    read = [q for q in queries if "patients_contactpreference" in q["sql"]]
    assert len(read) == 1


@pytest.mark.django_db
def test_a_patient_who_reads_spanish_gets_the_practices_spanish_words(practice, front_desk):
    patient = walter(practice)
    consent.set_preferences(patient, actor=front_desk, language="es")
    appointment = booked(practice, front_desk, patient)
    reminders.send_due(now=WEEK_BEFORE)
    delivery = week_reminder(appointment).delivery
    assert delivery.body.startswith("Riverside Family Medicine: cita ")
    assert "Responda C para confirmar" in delivery.body
    assert outbox.refused(delivery) == []  # the outbox's last look lets it go, too


@pytest.mark.django_db
def test_a_call_in_spanish_is_placed_in_spanish(practice, front_desk):
    patient = prefers_calls(walter(practice), front_desk)
    consent.set_preferences(patient, actor=front_desk, language="es")
    appointment = booked(practice, front_desk, patient)
    reminders.send_due(now=WEEK_BEFORE)
    assert OutreachCall.objects.get(reminder=week_reminder(appointment)).language == "es"


@pytest.mark.django_db
def test_english_when_the_practice_has_no_words_in_the_patients_language(practice, front_desk):
    patient = walter(practice)
    consent.set_preferences(patient, actor=front_desk, language="es")
    assert decisions.language_for(patient, "appointment-reminders", "sms") == "es"
    assert decisions.language_for(patient, "no-such-purpose", "sms") == "en"
