"""The patient page's "Send a message": Nurse Ines asks Walter Okafor to call about his
results; Bea in billing may send only about his bill; the agent cannot send at all; and
another practice's member finds nothing. Every attempt is the sending decision's, shown in
plain words and audited without PHI."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.outbox.models import Delivery
from clinicline.outreach.decision_models import SendDecision
from clinicline.practices.models import Provider
from tests.conftest import make_member, phi_in_audit, signed_in
from tests.outreach.support import consents, walter

DAYTIME = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)  # 10:00 in Boston
SECRETS = ("Walter", "Okafor", "6175550142", "RFM-100142")


@pytest.fixture(autouse=True)
def _daytime():
    with time_machine.travel(DAYTIME, tick=True):
        yield


@pytest.fixture
def ines(practice):
    return make_member(practice, Role.NURSE, "ines")


@pytest.fixture
def walter_consenting(practice, ines):
    patient = walter(practice)
    consents(patient, ines, purpose="results-ready")
    consents(patient, ines, purpose="billing")
    return patient


def url(practice, patient) -> str:
    return reverse("outreach:send", kwargs={"practice": practice.slug, "patient_id": patient.pk})


@pytest.mark.django_db
def test_the_nurse_previews_then_sends_and_sees_it_sent(practice, ines, walter_consenting):
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    client = signed_in(ines)
    page = client.get(reverse("patients:detail", kwargs={
        "practice": practice.slug, "patient_id": walter_consenting.pk}))
    assert url(practice, walter_consenting) in page.content.decode()
    form = client.get(url(practice, walter_consenting))
    assert form.status_code == 200 and "Text message" in form.content.decode()
    preview = client.get(url(practice, walter_consenting), {
        "purpose": "results-ready", "channel": "sms", "provider": osei.pk, "key": uuid.uuid4()})
    assert ("Riverside Family Medicine: Your results are ready. Please call the office at "
            "617-555-0100.") in preview.content.decode()
    assert not Delivery.objects.exists()  # a preview sends nothing
    key = uuid.uuid4()
    sent = client.post(url(practice, walter_consenting), {
        "purpose": "results-ready", "channel": "sms", "provider": osei.pk, "key": key})
    assert sent.status_code == 200
    assert "Sent. It is queued for delivery now." in sent.content.decode()
    assert str(key) not in sent.content.decode()  # the form shown next is a new message
    again = client.post(url(practice, walter_consenting), {
        "purpose": "results-ready", "channel": "sms", "provider": osei.pk, "key": key})
    assert again.status_code == 200
    assert Delivery.objects.count() == 1  # the same form sent twice sends once
    event = AuditEvent.objects.filter(action=Action.SEND_MESSAGE).first()
    assert event.reason == "results-ready by sms: sent"
    assert phi_in_audit(event, SECRETS) == []


@pytest.mark.django_db
def test_a_withheld_message_says_why(practice, ines, walter_consenting):
    client = signed_in(ines)
    post = {"purpose": "results-ready", "channel": "sms", "provider": ""}
    client.post(url(practice, walter_consenting), {**post, "key": uuid.uuid4()})
    capped = client.post(url(practice, walter_consenting), {**post, "key": uuid.uuid4()})
    assert "Not sent: the practice&#x27;s daily or weekly limit." in capped.content.decode()
    assert SendDecision.objects.filter(reason="frequency-cap").count() == 1


@pytest.mark.django_db
def test_only_consented_channels_are_offered(practice, ines):
    patient = walter(practice)
    page = signed_in(ines).get(url(practice, patient))
    assert "has not agreed to be contacted" in page.content.decode()
    refused = signed_in(ines).post(url(practice, patient), {
        "purpose": "results-ready", "channel": "sms", "key": uuid.uuid4()})
    assert refused.status_code == 400 and not Delivery.objects.exists()


@pytest.mark.django_db
def test_billing_sends_only_about_bills(practice, walter_consenting):
    bea = make_member(practice, Role.BILLING, "bea")
    client = signed_in(bea)
    assert "Results ready" not in client.get(url(practice, walter_consenting)).content.decode()
    refused = client.post(url(practice, walter_consenting), {
        "purpose": "results-ready", "channel": "sms", "key": uuid.uuid4()})
    assert refused.status_code == 400 and not Delivery.objects.exists()
    sent = client.post(url(practice, walter_consenting), {
        "purpose": "billing", "channel": "sms", "key": uuid.uuid4()})
    assert sent.status_code == 200 and Delivery.objects.count() == 1


@pytest.mark.django_db
def test_roles_that_send_nothing_and_other_practices_find_nothing(
        practice, other_practice, walter_consenting):
    agent = make_member(practice, Role.AGENT, "ali")
    assert signed_in(agent).get(url(practice, walter_consenting)).status_code == 404
    stranger = make_member(other_practice, Role.NURSE, "nell")
    other = reverse("outreach:send", kwargs={"practice": other_practice.slug,
                                             "patient_id": walter_consenting.pk})
    assert signed_in(stranger).get(other).status_code == 404
    assert signed_in(stranger).post(other, {"purpose": "billing", "channel": "sms",
                                            "key": uuid.uuid4()}).status_code == 404
    assert not Delivery.objects.exists()


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(purpose=st.one_of(st.sampled_from(["results-ready", "billing", "care-team"]), st.text()),
       channel=st.one_of(st.sampled_from(["sms", "voice", "email", "voicemail"]), st.text()),
       provider=st.one_of(st.text(), st.integers(min_value=-2**70, max_value=2**70).map(str)),
       key=st.one_of(st.uuids().map(str), st.text()))
def test_bad_form_input_is_a_4xx_never_a_500(practice, ines, walter_consenting, purpose,
                                              channel, provider, key):
    client = signed_in(ines)
    answer = client.post(url(practice, walter_consenting), {
        "purpose": purpose, "channel": channel, "provider": provider, "key": key})
    assert answer.status_code in (200, 400)
    answer = client.get(url(practice, walter_consenting), {
        "purpose": purpose, "channel": channel, "provider": provider, "key": key})
    assert answer.status_code in (200, 400)
