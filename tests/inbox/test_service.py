"""Opening a message: triaged by the protocol, routed, sealed, audited in one transaction;
re-triage only ever raises a priority."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection

from clinicline.audit.models import Action, AuditEvent
from clinicline.inbox import service
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.intake.service import call_types_for, take_message
from tests.conftest import make_patient, phi_in_audit

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
AFTER_HOURS = dt.datetime(2026, 12, 5, 2, 10, tzinfo=NY)   # a Saturday, 2:10 a.m.
OFFICE_HOURS = dt.datetime(2026, 12, 8, 11, 0, tzinfo=NY)  # a Tuesday, 11 a.m.

URGENT_CLINICAL = {
    "patient_name": "Walter Okafor", "date_of_birth": dt.date(1958, 4, 2),
    "callback_number": "+16175550142",
    "concern": "Knee surgery two days ago. Calf is swollen and painful, and since tonight he "
               "is short of breath.",
}


def call_type(practice, slug):
    return call_types_for(practice).get(slug)


def test_the_urgent_clinical_drill_is_an_emergency_in_the_clinical_queue(practice):
    patient = make_patient(practice)
    message = take_message(practice, call_type(practice, "clinical"), URGENT_CLINICAL,
                                   at=AFTER_HOURS)
    message = Message.objects.get(pk=message.pk)
    assert (message.priority, message.team.slug, message.office_open) == ("emergency",
                                                                          "clinical", False)
    assert message.advise_911 and "911" in message.script
    assert message.rules  # what fired is recorded
    assert (message.call_type_version, message.protocol_version) == (1, 1)
    assert message.fields["date_of_birth"] == "1958-04-02"
    assert message.patient == patient  # name + DOB matched exactly one patient
    assert message.retain_until == dt.date(2026, 12, 5) + dt.timedelta(
        days=practice.message_retention_days)
    event = AuditEvent.objects.get(action=Action.CREATE, object_id=str(message.pk))
    assert event.patient_id == str(patient.pk)
    assert phi_in_audit(event, ["Walter", "Okafor", "1958", "5550142"]) == []


def test_only_the_call_types_fields_are_kept(practice):
    billing = call_type(practice, "billing")
    message = take_message(practice, billing, {
        "patient_name": "Marcus Bell", "callback_number": "+16175550143",
        "question": "Why was I charged twice?", "diagnosis": "hypertension"}, at=OFFICE_HOURS)
    assert set(message.fields) == {"patient_name", "callback_number", "question"}
    assert (message.priority, message.team.slug) == ("routine", "billing")


def test_red_flags_in_a_billing_question_send_it_to_clinical(practice):
    message = take_message(practice, call_type(practice, "billing"), {
        "patient_name": "Marcus Bell", "callback_number": "+16175550143",
        "question": "About my bill, and I have crushing chest pain right now"},
        at=OFFICE_HOURS)
    assert message.priority == "emergency" and message.team.slug == "clinical"


def test_a_floor_raises_but_never_lowers(practice):
    clinical = call_type(practice, "clinical")
    pressed_urgent = take_message(practice, clinical, {"concern": "a rash"},
                                          source=Source.IVR, floor="urgent",
                                          floor_rule="ivr-urgent")
    assert pressed_urgent.priority == "urgent" and "ivr-urgent" in pressed_urgent.rules
    emergency = take_message(practice, clinical, {"concern": "he is not breathing"},
                                     floor="urgent", floor_rule="ivr-urgent")
    assert emergency.priority == "emergency" and "ivr-urgent" not in emergency.rules


def test_new_text_raises_the_priority_and_reroutes_but_never_lowers(practice):
    message = take_message(practice, call_type(practice, "refill"), {
        "patient_name": "Marcus Bell", "medication": "lisinopril", "pharmacy": "CVS",
        "callback_number": "+16175550143", "days_left": 3}, at=OFFICE_HOURS)
    assert (message.priority, message.team.slug) == ("routine", "refills")
    assert not service.raise_priority(message, ["thanks, no chest pain"], reason="sms")
    assert service.raise_priority(message, ["now my face is drooping"], reason="transcript")
    message.refresh_from_db()
    assert (message.priority, message.team.slug) == ("emergency", "clinical")
    assert message.triage["raised_by"] == "transcript"
    assert not service.raise_priority(message, ["all fine now"], reason="sms")
    message.refresh_from_db()
    assert message.priority == "emergency"
    assert AuditEvent.objects.filter(action=Action.MESSAGE_TRIAGE,
                                     object_id=str(message.pk)).count() == 1


def test_red_flags_reopen_a_closed_message(practice):
    message = take_message(practice, call_type(practice, "other"),
                                   {"message": "please call me"})
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.CLOSED)
    message.refresh_from_db()
    assert service.raise_priority(message, ["I took an overdose"], reason="sms")
    message.refresh_from_db()
    assert message.status == MessageStatus.NEW


def test_the_content_is_sealed_in_the_database(practice):
    take_message(practice, call_type(practice, "clinical"), URGENT_CLINICAL)
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        rows = " ".join(str(v) for row in cursor.fetchall() for v in row)
    for secret in ("Walter", "Okafor", "1958", "surgery", "calf", "breath", "5550142"):
        assert secret not in rows, secret


def test_red_flags_that_raise_no_priority_still_make_a_text_clinical(practice):
    message = take_message(practice, call_type(practice, "other"),
                                   {"message": "can I get my records?"}, at=OFFICE_HOURS)
    assert (message.clinical, message.team.slug) == (False, "practice-manager")
    assert not service.raise_priority(message, ["also, I am pregnant"], reason="sms")
    message.refresh_from_db()
    assert message.priority == "routine"
    assert (message.clinical, message.team.slug) == (True, "clinical")
    assert message.triage["red_flags"]
