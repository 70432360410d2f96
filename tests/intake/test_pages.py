"""The call-types pages: staff who take calls read the types in force; the practice admin
uploads new versions (JSON or YAML); a bad file is refused with a clear message, unsaved."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.intake import service
from clinicline.intake.models import CallTypeSet
from tests.conftest import make_member, signed_in
from tests.intake.test_versions import SMALL

pytestmark = pytest.mark.django_db

PAGE = "/p/riverside/intake/call-types/"
YAML = """call_types:
  - slug: billing
    label: Billing only
    clinical: true
    general: true
    fields:
      - {name: patient_name, label: Patient name, kind: text}
      - {name: question, label: Question, kind: longtext, phi: false}
"""


def upload(client, text: str, name: str = "call-types.yaml"):  # noqa: ANN201
    return client.post(PAGE + "upload/", {"file": SimpleUploadedFile(name, text.encode())})


@pytest.mark.parametrize("role", [Role.AGENT, Role.NURSE, Role.PROVIDER, Role.FRONT_DESK,
                                  Role.BILLING, Role.PRACTICE_MANAGER])
def test_staff_read_the_call_types_in_force(practice, role):
    response = signed_in(make_member(practice, role)).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "version 1" in body and "In force." in body
    assert "Prescription refill" in body and "days_left" in body
    assert "Upload a new version" not in body


def test_the_admin_sees_the_upload_form(practice, practice_admin):
    assert "Upload a new version" in signed_in(practice_admin).get(PAGE).content.decode()


def test_the_compliance_officer_is_not_shown_the_page(practice, compliance_officer):
    assert signed_in(compliance_officer).get(PAGE).status_code == 404


@pytest.mark.parametrize("role", [Role.NURSE, Role.AGENT, Role.PRACTICE_MANAGER])
def test_only_the_admin_may_upload(practice, role):
    assert upload(signed_in(make_member(practice, role)), YAML).status_code == 404
    assert not CallTypeSet.objects.filter(version=2).exists()


def test_another_practices_admin_cannot_upload(practice, other_admin):
    assert upload(signed_in(other_admin), YAML).status_code == 404
    assert not CallTypeSet.objects.exists()


@pytest.mark.parametrize("text,name", [(YAML, "call-types.yaml"),
                                       (json.dumps(SMALL), "call-types.json")])
def test_an_upload_becomes_the_version_in_force_audited(practice, practice_admin, text, name):
    client = signed_in(practice_admin)
    client.get(PAGE)  # version 1, the default, is in use
    response = upload(client, text, name)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert service.call_types_for(practice).version == 2
    event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE)
    assert event.reason == "call types v2"
    assert event.actor_id == practice_admin.pk and event.practice_id == practice.pk
    assert "version 2" in client.get(PAGE).content.decode()


@pytest.mark.parametrize("text,message", [
    ("call_types:\n- slug: a\n  fields:\n  - {name: x, kind: colour}\n",
     "unknown kind &#x27;colour&#x27;"),
    ("call_types:\n- {slug: a, fields: [{name: x}]}\n- {slug: a, fields: [{name: y}]}\n",
     "duplicate slug &#x27;a&#x27;"),
    ("call_types:\n- {slug: a, fields: [{name: x}, {name: x}]}\n",
     "duplicate field &#x27;x&#x27;"),
    ("call_types:\n- {slug: a, fields: [{label: Nameless}]}\n", "missing or invalid name"),
    # What once made a 500: a tag, an impossible date, and nesting the composer recursed on.
    ("call_types:\n- slug: !!python/name:os.system a\n",
     "line 2: the tag !!python/name:os.system is not allowed"),
    ("call_types:\n- !custom {slug: a}\n", "line 2: the tag !custom is not allowed"),
    ("call_types:\n- slug: a\n  label: " + "[" * 3000 + "]" * 3000 + "\n",
     "line 3: nested more than 32 deep"),
])
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_saved(
        practice, practice_admin, text, message):
    response = upload(signed_in(practice_admin), text)
    assert response.status_code == 400
    body = response.content.decode()
    assert "The file was not saved." in body and message in body
    assert list(CallTypeSet.objects.values_list("version", flat=True)) == [1]
    assert not AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).exists()


def test_a_date_on_no_calendar_is_text_where_text_is_wanted(practice, practice_admin):
    text = YAML.replace("label: Billing only", "label: 2001-02-30")
    assert upload(signed_in(practice_admin), text).status_code == 302
    assert service.call_types_for(practice).get("billing").label == "2001-02-30"


def test_get_on_upload_is_not_allowed(practice, practice_admin):
    assert signed_in(practice_admin).get(PAGE + "upload/").status_code == 405
