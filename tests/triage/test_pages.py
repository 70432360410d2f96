"""The protocol pages: staff who take calls read the protocol in force and its history;
the practice admin uploads new versions; a bad file is refused with its lines, unsaved."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.triage import service
from clinicline.triage.models import Protocol
from tests.conftest import make_member, signed_in
from tests.triage.test_protocol_file import SMALL, line_of

pytestmark = pytest.mark.django_db

PAGE = "/p/riverside/triage/"


def upload(client, text: str | bytes, name: str = "protocol.yaml"):  # noqa: ANN201
    data = text.encode() if isinstance(text, str) else text
    return client.post(PAGE + "upload/", {"file": SimpleUploadedFile(name, data)})


@pytest.mark.parametrize("role", [Role.AGENT, Role.NURSE, Role.PROVIDER, Role.FRONT_DESK,
                                  Role.PRACTICE_MANAGER])
def test_staff_who_take_calls_read_the_protocol_in_force(practice, role):
    response = signed_in(make_member(practice, role)).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "version 1" in body and "In force." in body
    assert "Chest pain can be a heart attack" in body  # the words to say
    assert "Upload a new version" not in body


def test_the_admin_sees_the_upload_form(practice, practice_admin):
    body = signed_in(practice_admin).get(PAGE).content.decode()
    assert "Upload a new version" in body


def test_the_compliance_officer_is_not_shown_the_page(practice, compliance_officer):
    assert signed_in(compliance_officer).get(PAGE).status_code == 404


@pytest.mark.parametrize("role", [Role.NURSE, Role.AGENT, Role.PRACTICE_MANAGER])
def test_only_the_admin_may_upload(practice, role):
    assert upload(signed_in(make_member(practice, role)), SMALL).status_code == 404
    assert Protocol.objects.filter(version=2).count() == 0


def test_an_upload_becomes_the_version_in_force_audited(practice, practice_admin):
    client = signed_in(practice_admin)
    client.get(PAGE)  # version 1, the default, is in use
    response = upload(client, SMALL)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert service.protocol_for(practice).version == 2
    event = AuditEvent.objects.get(action=Action.SETTINGS_CHANGE)
    assert (event.reason, event.actor_id) == ("triage protocol v2", practice_admin.pk)
    body = client.get(PAGE).content.decode()
    assert "Version 2 is now in force." in body
    assert 'href="/p/riverside/triage/v1/"' in body


def test_a_bad_upload_is_refused_with_its_lines_and_nothing_saved(practice, practice_admin):
    client = signed_in(practice_admin)
    client.get(PAGE)
    bad = SMALL.replace("{question: calf}", "{question: calves}")
    response = upload(client, bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert f"line {line_of(bad, 'question: calves')}: " in body
    assert "unknown question &#x27;calves&#x27;" in body
    assert Protocol.objects.count() == 1
    assert not AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).exists()


@pytest.mark.parametrize("data,message", [
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"", "The submitted file is empty."),
    ("rules: [\n", "not valid YAML"),
    ("questions: !!python/object/apply:os.system [ls]\n",
     "line 1: the tag !!python/object/apply:os.system is not allowed"),
    ("questions:\n  - " + "[" * 3000 + "]" * 3000 + "\n", "line 2: nested more than 32 deep"),
])
def test_a_file_that_is_not_a_protocol_is_refused(practice, practice_admin, data, message):
    response = upload(signed_in(practice_admin), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Protocol.objects.filter(version__gt=1).exists()


def test_any_version_downloads_as_the_yaml_it_was_imported_as(practice, practice_admin):
    client = signed_in(practice_admin)
    service.protocol_for(practice)
    service.import_protocol(practice, SMALL, by=practice_admin)
    first = client.get(PAGE + "v1.yaml")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/yaml; charset=utf-8"
    assert first["Content-Disposition"] == 'attachment; filename="riverside-triage-v1.yaml"'
    assert first.content.decode() == service.default_source()
    assert client.get(PAGE + "v2.yaml").content.decode() == SMALL
    assert upload(client, first.content).status_code == 302  # and it imports again
    assert service.protocol_for(practice).document == service.default_document()


def test_an_older_version_is_shown_as_not_in_force(practice, practice_admin):
    service.protocol_for(practice)
    service.import_protocol(practice, SMALL, by=practice_admin)
    body = signed_in(make_member(practice, Role.NURSE)).get(PAGE + "v1/").content.decode()
    assert "version 1" in body and "Not in force" in body and "(version 2 is)" in body


def test_an_unknown_version_is_not_found(practice, practice_admin):
    client = signed_in(practice_admin)
    assert client.get(PAGE + "v9/").status_code == 404
    assert client.get(PAGE + "v9.yaml").status_code == 404


def test_the_wrong_method_is_refused(practice, practice_admin):
    client = signed_in(practice_admin)
    service.protocol_for(practice)
    assert client.get(PAGE + "upload/").status_code == 405
    for url in (PAGE, PAGE + "v1/", PAGE + "v1.yaml"):
        assert client.post(url).status_code == 405


def test_another_practice_sees_nothing(practice, other_admin):
    service.protocol_for(practice)
    client = signed_in(other_admin)
    for url in (PAGE, PAGE + "v1/", PAGE + "v1.yaml"):
        assert client.get(url).status_code == 404
    assert upload(client, SMALL).status_code == 404


def test_the_page_needs_no_inline_script_or_style(practice, practice_admin):
    body = signed_in(practice_admin).get(PAGE).content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)", body) is None
    assert " style=" not in body and "<style" not in body
