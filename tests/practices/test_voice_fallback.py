"""The voice fallback file: what each practice number answers when the database cannot.
Written when a number or a practice's name or front desk changes, refreshed by the
worker, private to the server's user, and holding practice names and numbers only."""

from __future__ import annotations

import json
import stat

import pytest
from django.urls import reverse

from clinicline.accounts.roles import Role
from clinicline.jobs import job
from clinicline.practices import voice_fallback
from clinicline.practices.models import GatewayAccount, Practice
from tests.conftest import make_member, make_patient, make_practice, signed_in
from tests.gateways.test_settings_pages import SID, TOKEN, account_form
from tests.practices.test_settings_page import VALID

pytestmark = pytest.mark.django_db
NUMBER = "+16175550100"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def admin(practice: Practice):
    return signed_in(make_member(practice, Role.PRACTICE_ADMIN, "admin"))


def stored() -> dict[str, dict[str, str]]:
    return json.loads(voice_fallback.path().read_text())


def test_saving_the_gateway_writes_the_number_privately(practice, admin,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("gateway_settings:settings",
                                      kwargs={"practice": practice.slug}), account_form())
    assert response.status_code == 302
    assert stored() == {NUMBER: {"practice_name": practice.name, "fallback_phone": ""}}
    assert stat.S_IMODE(voice_fallback.path().stat().st_mode) == 0o600
    assert list(voice_fallback.path().parent.iterdir()) == [voice_fallback.path()]


def test_a_new_name_or_front_desk_rewrites_it(practice, admin,
                                              django_capture_on_commit_callbacks):
    GatewayAccount.objects.create(practice=practice, phone_number=NUMBER, account_sid=SID,
                                  auth_token=TOKEN)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("practices:settings", kwargs={"practice": practice.slug}),
                   {**VALID, "name": "Riverside Pediatrics", "front_desk_number": "617 555 0199"})
    assert stored()[NUMBER] == {"practice_name": "Riverside Pediatrics",
                                "fallback_phone": "+16175550199"}


def test_it_holds_no_patient_data_and_no_credential(practice):
    patient = make_patient(practice)
    GatewayAccount.objects.create(practice=practice, phone_number=NUMBER, account_sid=SID,
                                  auth_token=TOKEN)
    voice_fallback.write()
    text = voice_fallback.path().read_text()
    for told in (patient.given_name, patient.family_name, "+16175550142", "1958", TOKEN, SID):
        assert told not in text
    assert stored() == {NUMBER: {"practice_name": practice.name, "fallback_phone": ""}}


def test_the_workers_job_refreshes_it_with_every_practice(practice):
    other = make_practice("harbor", "Harbor Clinic")
    GatewayAccount.objects.create(practice=practice, phone_number=NUMBER, account_sid=SID,
                                  auth_token=TOKEN)
    voice_fallback.write()
    GatewayAccount.objects.create(practice=other, phone_number="+16175550300",
                                  account_sid=SID, auth_token=TOKEN)
    Practice.objects.filter(pk=practice.pk).update(front_desk_number="+16175550199")
    job("voice-fallback").run()
    assert stored() == {
        NUMBER: {"practice_name": practice.name, "fallback_phone": "+16175550199"},
        "+16175550300": {"practice_name": "Harbor Clinic", "fallback_phone": ""}}
    assert voice_fallback.line_for("+16175550300") == voice_fallback.Line("Harbor Clinic", "")
    assert voice_fallback.line_for("+16175550999") is None


def test_a_broken_file_reads_as_no_entry(data_dir):
    voice_fallback.path().write_text("{not json")
    assert voice_fallback.line_for(NUMBER) is None
    voice_fallback.path().write_text("[]")
    assert voice_fallback.line_for(NUMBER) is None
