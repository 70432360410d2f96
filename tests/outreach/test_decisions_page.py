"""The patient page's "Send a message": Nurse Ines asks Walter Okafor to call about his
results; Bea in billing may send only about his bill; the agent cannot send at all; and
another practice's member finds nothing. Every attempt is the sending decision's, shown in
plain words and audited without PHI."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.accounts.roles import Role
from clinicline.audit.models import Action, AuditEvent
from clinicline.outbox.models import Delivery
from clinicline.outreach import decisions, results, service, templates
from clinicline.outreach.decision_models import SendDecision
from clinicline.outreach.models import TemplateVersion
from clinicline.outreach.voice_models import OutreachCall, ResultsLink
from clinicline.patients import service as patients
from clinicline.patients.models import ContactPoint
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


# --- results ready: the request makes the link, the decision sends it ----------------------

NIGHT = dt.datetime(2026, 12, 9, 3, 0, tzinfo=dt.UTC)        # 22:00 in Boston
MORNING = dt.datetime(2026, 12, 9, 13, 0, 30, tzinfo=dt.UTC)  # just after 08:00 next day
WALTER_DOB = "1958-04-02"


def results_by(practice, ines, walter_consenting, channel: str, key: uuid.UUID | None = None):
    osei, _ = Provider.objects.get_or_create(practice=practice, display_name="Dr. Amara Osei")
    return signed_in(ines).post(url(practice, walter_consenting), {
        "purpose": "results-ready", "channel": channel, "provider": osei.pk,
        "key": key or uuid.uuid4()})


def link_path(body: str) -> str:
    return urlsplit(body.rsplit(" ", 1)[1]).path


@pytest.mark.django_db
def test_a_portal_patient_gets_the_results_link_from_the_page_and_it_opens(
        client, practice, ines, walter_consenting):
    consents(walter_consenting, ines, channel="portal", purpose="results-ready")
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    preview = signed_in(ines).get(url(practice, walter_consenting), {
        "purpose": "results-ready", "channel": "sms", "provider": osei.pk, "key": uuid.uuid4()})
    assert "A secure link to the results page follows these words" in preview.content.decode()
    sent = results_by(practice, ines, walter_consenting, "sms")
    assert "Sent. It is queued for delivery now." in sent.content.decode()
    link = ResultsLink.objects.get()
    decision = SendDecision.objects.get()
    assert decision.results_link == link and decision.created_by == ines
    body = Delivery.objects.get().body
    assert body.startswith("Riverside Family Medicine: Your results are ready.")
    assert link_path(body).startswith("/r/") and link.token_hash == results.digest(
        link_path(body).split("/")[2])
    assert link.requested_by == ines
    assert "Your results are ready" not in client.get(link_path(body)).content.decode()
    shown = client.post(link_path(body), {"date_of_birth": WALTER_DOB})
    assert shown.status_code == 200 and "Your results are ready" in shown.content.decode()
    event = AuditEvent.objects.get(action=Action.SEND_MESSAGE)
    assert event.reason == "results-ready by sms: sent" and phi_in_audit(event, SECRETS) == []
    assert AuditEvent.objects.filter(action=Action.RESULTS_REQUEST).count() == 1


@pytest.mark.django_db
def test_without_portal_consent_the_page_sends_the_text_without_a_link(
        practice, ines, walter_consenting):
    results_by(practice, ines, walter_consenting, "sms")
    assert Delivery.objects.get().body == (
        "Riverside Family Medicine: Your results are ready. Please call the office at "
        "617-555-0100. Reply STOP to opt out.")
    assert ResultsLink.objects.count() == 1  # made anyway, for a later link


@pytest.mark.django_db
def test_results_by_call_from_the_page_place_one_call_however_often_it_is_sent(
        practice, ines, walter_consenting):
    consents(walter_consenting, ines, channel="voice", purpose="results-ready")
    key = uuid.uuid4()
    sent = results_by(practice, ines, walter_consenting, "voice", key)
    again = results_by(practice, ines, walter_consenting, "voice", key)
    assert "Sent. It is queued for delivery now." in again.content.decode()
    assert sent.status_code == again.status_code == 200
    call = OutreachCall.objects.get()
    decision = SendDecision.objects.get()
    assert decision.delivery == call.delivery == Delivery.objects.get()
    assert call.results_link == decision.results_link == ResultsLink.objects.get()
    assert AuditEvent.objects.get(action=Action.SEND_MESSAGE).reason == (
        "results-ready by voice: sent")


@pytest.mark.django_db
def test_a_voicemail_only_patient_is_offered_voicemail_and_gets_the_call(
        practice, ines, walter_consenting):
    consents(walter_consenting, ines, channel="voicemail", purpose="results-ready")
    refused = results_by(practice, ines, walter_consenting, "voice")  # calls: not agreed to
    assert refused.status_code == 400 and not ResultsLink.objects.exists()
    sent = results_by(practice, ines, walter_consenting, "voicemail")
    assert "Sent. It is queued for delivery now." in sent.content.decode()
    call = OutreachCall.objects.get()
    assert call.delivery == SendDecision.objects.get().delivery
    assert AuditEvent.objects.get(action=Action.SEND_MESSAGE).reason == (
        "results-ready by voicemail: sent")


@pytest.mark.django_db
def test_results_at_night_are_held_then_sent_with_the_link(practice, ines, walter_consenting):
    consents(walter_consenting, ines, channel="portal", purpose="results-ready")
    with time_machine.travel(NIGHT, tick=False):
        held = results_by(practice, ines, walter_consenting, "sms")
    assert "Held until the patient&#x27;s quiet hours end" in held.content.decode()
    assert not Delivery.objects.exists()
    assert AuditEvent.objects.get(action=Action.SEND_MESSAGE).reason == (
        "results-ready by sms: deferred (quiet-hours)")
    with time_machine.travel(MORNING, tick=False):
        assert decisions.send_deferred() == 1
    assert "/r/" in Delivery.objects.get().body


@pytest.mark.django_db
def test_results_without_text_consent_are_not_sent_and_the_page_says_why(practice, ines):
    patient = walter(practice)
    consents(patient, ines, purpose="care-team")  # the page opens; results are not agreed to
    sent = results_by(practice, ines, patient, "sms")
    assert "Not sent: no consent for this channel and purpose." in sent.content.decode()
    assert not Delivery.objects.exists() and ResultsLink.objects.count() == 1


@pytest.mark.django_db
def test_results_by_email_is_refused_with_a_clear_400(practice, ines, walter_consenting):
    patients.add_contact(walter_consenting, ContactPoint.Kind.EMAIL, "walter@example.org",
                         verified_at=DAYTIME)
    consents(walter_consenting, ines, channel="email", purpose="results-ready")
    refused = results_by(practice, ines, walter_consenting, "email")
    assert refused.status_code == 400
    assert "Results ready go by text, call or voicemail" in refused.content.decode()
    assert not SendDecision.objects.exists() and not ResultsLink.objects.exists()


# --- care-team and billing by voicemail: a call that leaves the voicemail words ------------

def by_voicemail(practice, member, patient, purpose: str, provider: Provider | None):
    return signed_in(member).post(url(practice, patient), {
        "purpose": purpose, "channel": "voicemail", "provider": provider.pk if provider else "",
        "key": uuid.uuid4()})


@pytest.mark.django_db
@pytest.mark.parametrize(("purpose", "role", "reason"), [
    ("care-team", Role.NURSE, "a message from your care team"),
    ("billing", Role.BILLING, "your account")])
def test_a_voicemail_from_the_page_places_a_call_that_leaves_the_voicemail_words(
        practice, ines, purpose, role, reason):
    patient = walter(practice)
    consents(patient, ines, channel="voicemail", purpose=purpose)
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    member = make_member(practice, role, "bea") if role == Role.BILLING else ines
    assert "Voicemail" in signed_in(member).get(url(practice, patient)).content.decode()
    sent = by_voicemail(practice, member, patient, purpose, osei)
    assert sent.status_code == 200
    assert "Sent. It is queued for delivery now." in sent.content.decode()
    call, decision = OutreachCall.objects.get(), SendDecision.objects.get()
    assert (call.purpose, call.provider, call.patient) == (purpose, osei, patient)
    assert call.delivery == decision.delivery == Delivery.objects.get()
    assert (decision.channel, decision.outcome) == ("voicemail", "sent")
    assert call.delivery.channel == "voice" and call.delivery.call_step == f"call={call.pk}"
    assert call.delivery.body == (f"Hello, this is a message from Dr. Amara Osei's office "
                                  f"regarding {reason}. Please call us back at 6 1 7, 5 5 5, "
                                  "0 1 0 0. Thank you.")
    event = AuditEvent.objects.get(action=Action.SEND_MESSAGE)
    assert event.reason == f"{purpose} by voicemail: sent" and phi_in_audit(event, SECRETS) == []


@pytest.mark.django_db
def test_a_voicemail_naming_the_providers_office_needs_the_provider(practice, ines):
    patient = walter(practice)
    consents(patient, ines, channel="voicemail", purpose="care-team")
    refused = by_voicemail(practice, ines, patient, "care-team", None)
    assert refused.status_code == 400
    assert "These words name the provider: choose one." in refused.content.decode()
    assert not SendDecision.objects.exists() and not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_care_team_voicemail_naming_a_specialty_is_withheld(practice, ines):
    patient = walter(practice)
    consents(patient, ines, channel="voicemail", purpose="care-team")
    lee = Provider.objects.create(practice=practice, display_name="Dr. Lee, Oncology")
    sent = by_voicemail(practice, ines, patient, "care-team", lee)
    assert "Not sent: " in sent.content.decode()
    assert SendDecision.objects.get().reason == "phi"
    assert not Delivery.objects.exists() and not OutreachCall.objects.exists()


@pytest.mark.django_db
def test_a_care_team_call_names_the_provider_in_the_voicemail_it_may_leave(practice, ines):
    patient = walter(practice)
    consents(patient, ines, channel="voice", purpose="care-team")
    refused = signed_in(ines).post(url(practice, patient), {
        "purpose": "care-team", "channel": "voice", "provider": "", "key": uuid.uuid4()})
    assert refused.status_code == 400
    assert "These words name the provider: choose one." in refused.content.decode()
    osei = Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")
    sent = signed_in(ines).post(url(practice, patient), {
        "purpose": "care-team", "channel": "voice", "provider": osei.pk, "key": uuid.uuid4()})
    assert "Sent. It is queued for delivery now." in sent.content.decode()
    call = OutreachCall.objects.get()
    assert (call.purpose, call.provider) == ("care-team", osei)
    assert call.delivery == SendDecision.objects.get().delivery


# --- a results text whose words hold {secure_link} ------------------------------------------

@pytest.mark.django_db
def test_a_results_text_with_a_link_slot_is_refused_at_approval(practice, ines):
    admin = make_member(practice, Role.PRACTICE_ADMIN, "dana")
    kind = ("results-ready", "sms", "en")
    draft = service.save_draft(practice, kind, "{practice}: your results are ready at "
                               "{secure_link}. Reply STOP to opt out.", by=admin)
    with pytest.raises(service.Refused) as refused:
        service.approve(draft, by=admin)
    assert templates.RESULTS_LINK_SLOT in refused.value.report.problems
    assert service.live(practice, kind).version is None  # the shipped words stay live


@pytest.mark.django_db
@pytest.mark.parametrize("portal", [False, True], ids=["no portal consent", "portal consent"])
def test_words_approved_with_a_link_slot_before_the_rule_say_why_nothing_is_sent(
        practice, ines, walter_consenting, portal):
    admin = make_member(practice, Role.PRACTICE_ADMIN, "dana")
    kind = ("results-ready", "sms", "en")
    service.approve(service.save_draft(practice, kind, "{practice}: your results are ready. "
                                       "Reply STOP to opt out.", by=admin), by=admin)
    # Approved before approval refused the slot: the words as they were then.
    TemplateVersion.objects.filter(template__practice=practice).update(
        body="{practice}: your results are ready at {secure_link}. Reply STOP to opt out.")
    if portal:
        consents(walter_consenting, ines, channel="portal", purpose="results-ready")
    answer = results_by(practice, ines, walter_consenting, "sms")
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "A practice admin must approve words without it first." in html
    assert "These words name the provider" not in html
    assert not SendDecision.objects.exists() and not Delivery.objects.exists()
