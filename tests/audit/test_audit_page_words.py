"""The audit page names people and actions in words, and records by kind and a short
reference: the compliance officer reads "nurse · nurse — viewed PHI — patient 3f2a9c1b",
never a bare UUID or an action code, and never a patient's name."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.intake.service import call_types_for, take_message
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def trail(client, practice, **filters) -> str:
    response = client.get(reverse("audit:events", kwargs={"practice": practice.slug}), filters)
    assert response.status_code == 200
    page = response.content.decode()
    return page[page.index('<table class="audit'):page.index("</table>")]


def words(html: str) -> str:
    """The table as read: tags (and the ids inside their attributes) dropped."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_people_actions_and_records_in_words(practice, nurse, patient, compliance_officer):
    message = take_message(practice, call_types_for(practice).get("scheduling"), {
        "patient_name": "Walter Okafor", "callback_number": "+16175550142"})
    record(Action.VIEW, actor=nurse, practice=practice, obj=patient, patient=patient,
           fields=["given_name", "date_of_birth"])
    record(Action.MESSAGE_CLAIM, actor=nurse, practice=practice, obj=message,
           patient=patient)
    table = trail(signed_in(compliance_officer), practice)
    read = words(table)
    assert f"nurse nurse viewed PHI patient {str(patient.pk)[:8]} given name, date of birth" \
        in read
    assert (f"claimed a message message {str(message.pk)[:8]} · patient {str(patient.pk)[:8]}"
            in read)
    assert "phi.view" not in read and "message.claim" not in read and "inbox.message" not in read
    assert UUID.search(read) is None                 # ids only as short references
    assert "Walter" not in table and "Okafor" not in table and "1958" not in table


def test_a_patient_reference_filters_the_trail_to_that_patient(practice, nurse, patient,
                                                               compliance_officer):
    record(Action.VIEW, actor=nurse, practice=practice, obj=patient, patient=patient)
    record(Action.LOGIN, actor=nurse)
    client = signed_in(compliance_officer)
    link = re.search(r'href="(\?[^"]*patient=[^"]+)"', trail(client, practice)).group(1)
    assert str(patient.pk) in link
    filtered = words(trail(client, practice, patient=str(patient.pk)))
    assert "viewed PHI" in filtered and "logged in" not in filtered
