"""Finding, opening, adding and editing patients: every touch audited, bad input refused."""

import datetime as dt

import pytest
from django.urls import reverse

from clinicline.audit.models import Action, AuditEvent
from clinicline.patients.models import ContactPoint, Patient
from tests.conftest import make_patient, signed_in

pytestmark = pytest.mark.django_db


def url(name, practice, **kw):
    return reverse(f"patients:{name}", kwargs={"practice": practice.slug, **kw})


def test_search_by_phone_name_and_dob_or_mrn(nurse, practice, patient):
    make_patient(practice, "Marcus", "Bell", dt.date(1971, 11, 19), "+12025550173")
    client = signed_in(nurse)
    for query in [{"phone": "(617) 555-0142"},
                  {"given_name": "walter", "family_name": "OKAFOR", "date_of_birth": "1958-04-02"},
                  {"mrn": "rfm 100142"}]:
        page = client.post(url("search", practice), query).content.decode()
        assert "Walter Okafor" in page, query
        assert "Marcus" not in page
    events = AuditEvent.objects.filter(action=Action.SEARCH)
    assert events.count() == 3
    assert {e.patient_id for e in events} == {str(patient.pk)}


def test_search_is_a_post_so_nothing_typed_reaches_a_url(nurse, practice, patient):
    client = signed_in(nurse)
    page = client.get(url("search", practice), {"phone": "+16175550142"}).content.decode()
    assert "Walter" not in page
    assert 'method="post"' in page


def test_a_search_needs_a_whole_key(nurse, practice, patient):
    client = signed_in(nurse)
    response = client.post(url("search", practice), {"given_name": "Walter"})
    assert response.status_code == 400
    assert "date of birth together" in response.content.decode()
    response = client.post(url("search", practice), {"phone": "12"})
    assert response.status_code == 400
    assert "not a phone number" in response.content.decode() or \
        "not valid" in response.content.decode()


def test_opening_a_patient_is_audited_with_the_fields_shown(nurse, practice, patient):
    response = signed_in(nurse).get(url("detail", practice, patient_id=patient.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Walter Okafor" in page and "(617) 555-0142" in page
    event = AuditEvent.objects.get(action=Action.VIEW)
    assert event.fields.split(",") == ["given_name", "family_name", "date_of_birth", "mrn",
                                       "address", "contact_points"]
    assert (event.actor_id, event.object_id) == (nurse.pk, str(patient.pk))


def test_adding_a_patient(agent, practice):
    response = signed_in(agent).post(url("create", practice), {
        "given_name": "Priya", "family_name": "Raman", "date_of_birth": "1990-06-08",
        "mrn": "", "contact-phone": "212-555-0187", "contact-label": "mobile"})
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert (patient.given_name, patient.date_of_birth) == ("Priya", dt.date(1990, 6, 8))
    assert ContactPoint.objects.get().value == "+12125550187"
    assert AuditEvent.objects.filter(action=Action.CREATE).count() == 2  # patient, phone


@pytest.mark.parametrize("bad,message", [
    ({"date_of_birth": "2099-01-01"}, "not possible"),
    ({"date_of_birth": "1958-02-30"}, "Enter a valid date"),
    ({"contact-phone": "555"}, "phone number"),
    ({"given_name": ""}, "This field is required"),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(agent, practice, bad,
                                                                    message):
    form = {"given_name": "Priya", "family_name": "Raman", "date_of_birth": "1990-06-08",
            "contact-phone": "212-555-0187", "contact-label": "mobile", **bad}
    response = signed_in(agent).post(url("create", practice), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Patient.objects.exists() and not ContactPoint.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.CREATE).exists()


def test_editing_records_which_fields_changed(nurse, practice, patient):
    client = signed_in(nurse)
    response = client.post(url("edit", practice, patient_id=patient.pk), {
        "given_name": "Walter", "family_name": "Okafor", "date_of_birth": "1958-04-02",
        "mrn": "RFM-100142", "city": "Boston"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.address == {"city": "Boston"}
    assert AuditEvent.objects.get(action=Action.UPDATE).fields == "address"


def test_billing_finds_and_opens_patients_but_cannot_edit(biller, practice, patient):
    client = signed_in(biller)
    assert client.get(url("detail", practice, patient_id=patient.pk)).status_code == 200
    assert client.get(url("edit", practice, patient_id=patient.pk)).status_code == 404
    assert client.get(url("create", practice)).status_code == 404
