"""The last look: right before a transport gets a non-secure delivery, the PHI guard reads it
once more; anything that looks like PHI is withheld, recorded (without the text that
matched), and never sent. (What the guard finds is tested in tests/phiguard/; this is what
the outbox asks of it, and what it does with the answer.)"""

from __future__ import annotations

import pytest

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.inbox.models import Notice
from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.patients.models import Patient
from clinicline.practices.models import Practice, Provider
from clinicline.simulator.models import SimulatorEvent
from tests.conftest import make_patient
from tests.outbox.conftest import twilio_answers, twilio_reply

CALLBACK = "+16175550100"


@pytest.fixture
def provider(practice: Practice) -> Provider:
    return Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")


@pytest.mark.parametrize("text,kinds", [
    ("Born 04/02/1958, please call.", ["date"]),
    ("Born 04.02.1958, please call.", ["date"]),
    ("Your date of birth 1958-04-02 is on file.", ["date"]),
    ("Appointment confirmed for April 2, 1958.", ["date"]),
    ("Seen on 2 April 1958.", ["date"]),
    ("Born in 1958.", ["date"]),
    ("Family history since 1899.", ["date"]),
    ("SSN 123-45-6789 on file.", ["ssn"]),
    ("SSN 123 45 6789 on file.", ["ssn"]),
    ("Write to walter.okafor@example.com.", ["email"]),
    ("Call the cell at (617) 555-0142.", ["phone"]),
    ("Call 617.555.0142.", ["phone"]),
    ("Call +1 415 555 2671 today.", ["phone"]),
    ("Your chart RFM-100142 is ready.", ["record_number"]),
    ("Reference 10014237.", ["record_number"]),
    ("MRN: 100142.", ["record_number"]),
])
@pytest.mark.django_db
def test_identifiers_are_found(practice, text, kinds):
    assert service.screened(practice, text) == kinds


@pytest.mark.parametrize("text", [
    "Riverside Family Medicine: please call us at (617) 555-0100.",
    "Please call us at 617-555-0100.",
    "Please call us at 617.555.0100.",
    "Please call us at 6175550100.",
    "Please call us at +1 617 555 0100.",
    "Please call us at 1-617-555-0100.",
    "You have 2 new secure messages in Refills",
    "Urgent message for Riverside Family Medicine. Open "
    "https://clinic.example.org/p/riverside/pages/3f2a9c1e-4b7d-4e2a-9f0c-1a2b3c4d5e6f/",
    "Your appointment with Dr. Amara Osei is confirmed. Reply C to confirm, R to reschedule.",
    "Office hours 8:00 to 17:00, Monday to Friday. Reply STOP to opt out.",
])
@pytest.mark.django_db
def test_the_practices_own_number_and_plain_notices_pass(practice, provider, settings, text):
    settings.SITE_URL = "https://clinic.example.org"  # the secure-link host
    assert practice.callback_number == CALLBACK
    assert service.screened(practice, text) == []


@pytest.mark.parametrize("text", [
    "Walter, please call us.", "WALTER please call us.", "Mr. Okafor, please call us.",
    "Dear Okafor, please call us.", "Dear Walter's family, please call us.",
])
@pytest.mark.django_db
def test_the_patients_own_name_is_found(practice, patient, text):
    assert service.screened(practice, text, patient) == ["name"]


@pytest.mark.django_db
def test_names_are_whole_words_and_accents_do_not_hide_them(practice):
    jose = make_patient(practice, "José", "Ruiz", phone="")
    assert service.screened(practice, "Jose, please call.", jose) == ["name"]
    al = make_patient(practice, "Al", "Ruiz", phone="")
    assert service.screened(practice, "Alan Shore, please call.", al) == ["person_name"]


@pytest.mark.django_db
def test_the_patients_record_number_is_found_however_written(practice, patient):
    assert patient.mrn == "RFM-100142"
    assert service.screened(practice, "Ref rfm 100 142.", patient) == ["mrn"]
    assert service.screened(practice, "Ref RFM100142.", patient) == ["mrn"]


@pytest.mark.django_db
def test_the_patients_birthday_blocks_even_without_a_year(practice, patient):
    # Dates with no year pass the outbox (schedules, appointment slots), but not this one.
    assert patient.date_of_birth.month == 4 and patient.date_of_birth.day == 2
    assert service.screened(practice, "See you on Thu Apr 2.", patient) == ["date_of_birth"]
    assert service.screened(practice, "See you on Thu Apr 3.", patient) == []


@pytest.mark.django_db
def test_providers_staff_and_queues_of_the_practice_may_be_named(practice, provider, nurse):
    nurse.first_name, nurse.last_name = "Nora", "Quigley"
    nurse.save()
    assert service.screened(practice, "Dr. Amara Osei asks you to call back.") == []
    assert service.screened(practice, "Nora Quigley is on call without a phone.") == []
    assert service.screened(practice, "2 new messages in Refills") == []
    assert service.screened(practice, "Dr. Kwame Mensah asks you to call back.") == \
        ["person_name"]


@pytest.mark.django_db
def test_clinical_content_and_other_hosts_are_withheld(practice):
    assert service.screened(practice, "Your A1C is back.") == ["test"]
    assert service.screened(practice, "Open https://evil.example.com/x") == ["url"]
    assert service.screened(practice, "Open http://127.0.0.1:8000/p/x/") == []  # SITE_URL


# What the worker does with a delivery the screen refuses.

def phi_text(practice: Practice, body: str, patient: Patient | None = None) -> Delivery:
    return service.enqueue(practice, channel="sms", to="+16175550142", body=body,
                           purpose="reminder", idempotency_key="reminder-1", patient=patient)


def assert_refused(delivery: Delivery, kinds: str) -> AuditEvent:
    row = Delivery.objects.get(pk=delivery.pk)
    assert (row.status, row.due_at, row.attempts) == (Status.FAILED, None, 1)
    assert row.error == f"withheld: looks like PHI ({kinds})"
    event = AuditEvent.objects.get(action=Action.DELIVERY_REFUSED)
    assert (event.object_id, event.outcome, event.reason) == \
        (str(delivery.pk), Outcome.DENIED, kinds)
    return event


def no_phi_in(event: AuditEvent, *values: str) -> None:
    # The free-text columns; the others are ids and hashes, checked for what they are above
    # (hex digits spell "1958" by chance now and then).
    text = ("actor_label", "object_type", "fields", "reason", "ip", "user_agent")
    stored = " ".join(getattr(event, name) for name in text).casefold()
    for value in values:
        assert value.casefold() not in stored, value


@pytest.mark.django_db
def test_a_text_with_a_birth_date_is_withheld_recorded_and_never_sent(practice):
    delivery = phi_text(practice, "Walter Okafor, born 04/02/1958: call (617) 555-0142.")
    service.send_due()
    event = assert_refused(delivery, "date, person_name, phone")
    no_phi_in(event, "Walter", "Okafor", "1958", "04/02", "555-0142", "5550142")
    assert not SimulatorEvent.objects.exists()  # the loopback transport was never called
    assert service.send_due() == 0  # and it is not tried again


@pytest.mark.django_db
def test_the_patients_own_name_is_withheld_when_the_delivery_names_the_patient(
        practice, patient):
    delivery = phi_text(practice, "Walter, please call us at (617) 555-0100.", patient=patient)
    service.send_due()
    event = assert_refused(delivery, "name")
    assert event.patient_id == str(patient.pk)  # the accounting of disclosures finds it
    no_phi_in(event, "Walter", "Okafor", "1958")
    assert not SimulatorEvent.objects.exists()


@pytest.mark.django_db
def test_a_refused_text_never_reaches_twilio(practice, live):
    delivery = phi_text(practice, "Your SSN 123-45-6789 is on file.")
    with twilio_answers(twilio_reply(201, sid="SM" + "a" * 32)) as twilio:
        service.send_due()
    assert_refused(delivery, "ssn")
    assert twilio.call_count == 0


@pytest.mark.django_db
def test_in_app_notices_are_inside_the_login_and_not_screened(practice, nurse):
    # A secure channel: it shows behind login and MFA, where members see PHI anyway.
    delivery = service.enqueue(practice, channel="in-app", to=str(nurse.pk),
                               body="Message from 04/02 ready", purpose="notification",
                               idempotency_key="n-1")
    service.send_due()
    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED
    assert Notice.objects.filter(delivery=delivery).exists()
