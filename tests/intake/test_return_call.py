"""Return calls: a caller proves who they are (name, date of birth and a phone number or MRN
on file) before anything about them is said. A failed check gets one script, whatever
failed, and reveals nothing; every attempt is audited, without PHI; a member who keeps
failing is stopped."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import yaml
from django.utils.html import strip_tags

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.intake import identity
from clinicline.intake.service import call_types_for, take_message
from tests.conftest import make_member, phi_in_audit, signed_in
from tests.shared import SCENARIOS

pytestmark = pytest.mark.django_db

SCENARIO = yaml.safe_load((SCENARIOS / "return-call-unverified.yaml").read_text("utf-8"))
PAGE = "/p/riverside/console/return-call/"
REFUSAL = "I'm sorry, but Federal law prevents me from providing that information."
CONCERN = "Fasting glucose results to discuss."
SECRETS = ["Walter", "Okafor", "1958", "RFM-100142", "0142", "glucose",
           "Clinical question or symptoms"]


def claim(name: str = "Walter Okafor", dob: str = "1958-04-02", phone: str = "",
          mrn: str = "") -> dict[str, str]:
    given, family = name.split(maxsplit=1)
    return {"given_name": given, "family_name": family, "date_of_birth": dob,
            "phone": phone, "mrn": mrn}


def text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.fixture
def waiting(practice, patient):
    """A message the office has open for Walter (his name and birth date match him)."""
    return take_message(practice, call_types_for(practice).get("clinical"), {
        "patient_name": "Walter Okafor", "date_of_birth": dt.date(1958, 4, 2),
        "callback_number": "+16175550142", "concern": CONCERN})


def test_the_unverified_caller_hears_the_federal_law_script_and_nothing_else(
        practice, agent, patient, waiting):
    identity_given = SCENARIO["identity"]
    response = signed_in(agent).post(PAGE, claim(identity_given["name_given"],
                                                 identity_given["date_of_birth_given"],
                                                 phone=SCENARIO["caller_number"]))
    assert response.status_code == 200
    body = text(response)
    assert REFUSAL in body
    for expected in SCENARIO["expect"]["script_contains"]:
        assert expected in body
    raw = html.unescape(response.content.decode())
    for secret in SECRETS:  # not even what the caller said is repeated
        assert secret not in raw
    assert "Identity verified" not in body
    event = AuditEvent.objects.get(action=Action.IDENTITY_CHECK)
    assert (event.outcome, event.actor_id, event.practice_id) == (
        Outcome.FAILURE, agent.pk, practice.pk)


def test_every_kind_of_failure_looks_the_same(practice, agent, patient, waiting):
    client = signed_in(agent)
    attempts = {
        "no such patient": claim("Nadia Brooks", "1980-01-01", phone="+16175550142"),
        "wrong date of birth": claim(dob="1958-02-04", phone="+16175550142"),
        "phone not on file": claim(phone="+16175550199"),
        "wrong MRN": claim(mrn="RFM-999999"),
        "right phone, wrong MRN": claim(phone="+16175550142", mrn="RFM-999999"),
    }
    pages = {why: without_csrf(client.post(PAGE, data)) for why, data in attempts.items()}
    assert len(set(pages.values())) == 1, "a failure must not say which factor failed"
    events = list(AuditEvent.objects.filter(action=Action.IDENTITY_CHECK))
    assert [e.outcome for e in events] == [Outcome.FAILURE] * len(attempts)
    # For the compliance officer: an attempt on Walter's record is in his access report.
    assert [e.patient_id for e in events] == ["", "", str(patient.pk), str(patient.pk),
                                              str(patient.pk)]


@pytest.mark.parametrize("factor", [{"phone": "(617) 555-0142"}, {"mrn": "rfm-100142"},
                                    {"phone": "+16175550142", "mrn": "RFM-100142"}])
def test_a_verified_caller_hears_what_the_office_left(practice, agent, patient, waiting,
                                                      factor):
    response = signed_in(agent).post(PAGE, {**claim(), **factor})
    assert response.status_code == 200
    body = text(response)
    assert "Identity verified" in body and REFUSAL not in body
    assert "Clinical question or symptoms" in body and "New" in body
    assert CONCERN not in body and "emergency" not in body.lower()  # no content, no triage
    event = AuditEvent.objects.get(action=Action.IDENTITY_CHECK)
    assert (event.outcome, event.patient_id) == (Outcome.SUCCESS, str(patient.pk))
    assert AuditEvent.objects.filter(action=Action.VIEW, patient_id=str(patient.pk),
                                     fields="open_messages").exists()


def test_a_verified_caller_with_nothing_waiting_is_told_someone_will_call(practice, agent,
                                                                         patient):
    body = text(signed_in(agent).post(PAGE, claim(phone="+16175550142")))
    assert "I don't see anything waiting for you right now." in body
    assert "someone from the office will call you back" in body


def test_nothing_verified_stays_in_the_url_or_the_session(practice, agent, patient, waiting):
    client = signed_in(agent)
    response = client.post(PAGE, claim(phone="+16175550142"))
    assert "Identity verified" in text(response)
    assert str(patient.pk) not in response.content.decode()
    assert str(patient.pk) not in str(dict(client.session))
    assert "Identity verified" not in text(client.get(PAGE))  # a new caller starts afresh


def test_audit_rows_hold_no_phi(practice, agent, patient, waiting):
    client = signed_in(agent)
    client.post(PAGE, claim(dob="1958-02-04", phone="+16175550142"))
    client.post(PAGE, claim(mrn="RFM-100142"))
    events = AuditEvent.objects.filter(action=Action.IDENTITY_CHECK)
    assert events.count() == 2
    for event in events:
        assert phi_in_audit(event, ["Walter", "Okafor", "1958", "5550142", "100142"]) == []
        assert event.fields in ("given_name,family_name,date_of_birth,phone",
                                "given_name,family_name,date_of_birth,mrn")


def test_repeated_failures_stop_the_member_for_a_while(practice, agent, patient, waiting):
    client = signed_in(agent)
    for _ in range(identity.MAX_FAILURES):
        assert REFUSAL in text(client.post(PAGE, claim(phone="+16175550199")))
    stopped = text(client.post(PAGE, claim(phone="+16175550142")))  # the right answers
    assert REFUSAL in stopped and "identity checks are paused" in stopped
    assert "Identity verified" not in stopped
    last = AuditEvent.objects.filter(action=Action.IDENTITY_CHECK).last()
    assert last.outcome == Outcome.DENIED
    # Another member is not stopped by this one's failures.
    colleague = signed_in(make_member(practice, Role.FRONT_DESK, "front-desk"))
    assert "Identity verified" in text(colleague.post(PAGE, claim(phone="+16175550142")))


@pytest.mark.parametrize("data,problem", [
    (claim(phone=""), "Ask for one more thing the practice has on file"),
    (claim(dob="1958-02-30", phone="+16175550142"), "is not a date on the calendar"),
    (claim(phone="call me"), "That is not a phone number."),
    ({**claim(phone="+16175550142"), "given_name": ""}, "This field is required."),
])
def test_bad_input_is_a_clear_message_and_not_an_attempt(practice, agent, patient, data,
                                                         problem):
    response = signed_in(agent).post(PAGE, data)
    assert response.status_code == 400
    assert problem in text(response)
    assert not AuditEvent.objects.filter(action=Action.IDENTITY_CHECK).exists()


@pytest.mark.parametrize("role", [Role.BILLING, Role.COMPLIANCE_OFFICER])
def test_members_who_do_not_take_calls_cannot_check_identities(practice, patient, role):
    client = signed_in(make_member(practice, role))
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, claim(phone="+16175550142")).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.IDENTITY_CHECK).exists()


def test_another_practices_member_cannot_check_a_caller_here(practice, patient, other_admin):
    other_agent = make_member(other_admin.memberships.get().practice, Role.AGENT, "away-agent")
    response = signed_in(other_agent).post(PAGE, claim(phone="+16175550142"))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=Action.IDENTITY_CHECK).exists()
