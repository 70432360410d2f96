"""Audit rows hold no PHI: after a nurse creates, opens and changes a patient through the
real pages, no column of any event, nor the compliance page or its export, carries the
patient's name, date of birth or phone number; only the opaque patient id."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from clinicline.audit.models import Action, AuditEvent
from clinicline.patients.models import Patient
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

GIVEN, FAMILY, NEW_FAMILY = "Philippa", "Marchetti", "Marchetti-Ng"
DOB_FORMS = ("1963-07-19", "07/19/1963", "7/19/1963", "19630719", "July 19, 1963")
PHONES = ("+16175550188", "6175550188", "617-555-0188", "555-0188", "5550188")


def phi_in(text: str) -> list[str]:
    # Hashes are hex: a–f can never spell a name, and the digit forms are long enough that a
    # random hash holding one is a one-in-ten-million chance.
    found = [n for n in (GIVEN, FAMILY, NEW_FAMILY) if n.casefold() in text.casefold()]
    return found + [s for s in (*DOB_FORMS, *PHONES) if s in text]


def test_no_audit_column_carries_phi(practice, nurse, compliance_officer):
    client = signed_in(nurse)
    slug = {"practice": practice.slug}
    created = client.post(reverse("patients:create", kwargs=slug), {
        "given_name": GIVEN, "family_name": FAMILY, "date_of_birth": "1963-07-19",
        "contact-phone": "(617) 555-0188", "contact-label": "mobile"})
    assert created.status_code == 302, created.content.decode()[:500]
    patient = Patient.objects.get(practice=practice)
    record_urls = {**slug, "patient_id": patient.pk}
    assert GIVEN in client.get(reverse("patients:detail", kwargs=record_urls)).content.decode()
    edited = client.post(reverse("patients:edit", kwargs=record_urls), {
        "given_name": GIVEN, "family_name": NEW_FAMILY, "date_of_birth": "1963-07-19"})
    assert edited.status_code == 302
    client.post(reverse("patients:add_phone", kwargs=record_urls),
                {"phone": "617 555 0188", "label": "home"})
    client.post(reverse("patients:search", kwargs=slug), {"phone": "617-555-0188"})

    touches = AuditEvent.objects.filter(patient_id=str(patient.pk))
    assert set(touches.values_list("action", flat=True)) == \
        {Action.CREATE, Action.VIEW, Action.UPDATE, Action.SEARCH}
    assert touches.filter(action=Action.UPDATE, fields="family_name").exists()

    # Every column, as the database holds it, not as the model presents it.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    assert len(rows) >= 6
    for row in rows:
        assert phi_in(" | ".join(map(str, row))) == [], row

    officer = signed_in(compliance_officer)
    page = officer.get(reverse("audit:events", kwargs=slug)).content.decode()
    assert str(patient.pk) in page
    assert phi_in(page) == []
    export = officer.get(reverse("audit:export", kwargs=slug))
    text = b"".join(export.streaming_content).decode()
    assert len(re.findall(str(patient.pk), text)) >= 6
    assert phi_in(text) == []
