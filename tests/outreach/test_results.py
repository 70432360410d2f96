"""Results ready: the request and its sending decision (consent, the number, quiet hours,
the PHI guard), what the text says (and the link only with portal consent), the call, and
the link's page: nothing before the right date of birth, five wrong tries lock it, every
try audited without PHI, a throttle per address.

Walter Okafor's mobile is verified and he agreed to texts about results; Nurse Ines asks
at 10:00 in Boston unless a test says otherwise."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.outbox.models import Delivery
from clinicline.outreach import decisions, results
from clinicline.outreach.decision_models import SendDecision
from clinicline.outreach.voice_models import OutreachCall, ResultsLink
from clinicline.patients.models import Channel, Purpose
from clinicline.practices.models import Provider
from tests.conftest import phi_in_audit
from tests.outreach.support import walter
from tests.outreach.voice_support import consent_to

pytestmark = pytest.mark.django_db
WALTER_DOB = dt.date(1958, 4, 2)  # the conftest patient's
SECRETS = ("Walter", "Okafor", "1958", "04/02")
DAYTIME = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)     # 10:00 in Boston
NIGHT = dt.datetime(2026, 12, 9, 3, 0, tzinfo=dt.UTC)        # 22:00 in Boston
MORNING = dt.datetime(2026, 12, 9, 13, 0, 30, tzinfo=dt.UTC)  # just after 08:00 next day
RESULTS = Purpose.RESULTS_READY


@pytest.fixture(autouse=True)
def _daytime():
    with time_machine.travel(DAYTIME, tick=True):
        yield


@pytest.fixture
def patient(practice, nurse):
    """Walter, with his verified mobile and his consent to texts about results."""
    patient = walter(practice)
    consent_to(patient, Channel.SMS, RESULTS, nurse)
    return patient


@pytest.fixture
def osei(practice) -> Provider:
    return Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")


@pytest.fixture
def asked(practice, patient, nurse, osei) -> results.Requested:
    return results.request(practice, patient, by=nurse, channel="sms", provider=osei)


def link_url(asked: results.Requested) -> str:
    return reverse("results_link", args=[asked.token])


def linked(body: str) -> str:
    """The path of the link a text ends with, as the patient's phone would open it."""
    return urlsplit(body.rsplit(" ", 1)[1]).path


def test_the_text_says_only_that_results_are_ready(asked):
    body = Delivery.objects.get().body
    assert body == ("Riverside Family Medicine: Your results are ready. Please call the "
                    "office at 617-555-0100. Reply STOP to opt out.")
    assert not asked.portal and "/r/" not in body
    decision = asked.decision
    assert (decision.outcome, decision.purpose, decision.channel) == ("sent", RESULTS, "sms")
    assert decision.results_link == asked.link and decision.delivery == Delivery.objects.get()
    assert decision.secure_token == "" and decision.slot_reason == "results"


def test_a_portal_patient_gets_the_link_and_it_opens_with_the_date_of_birth(
        client, practice, patient, nurse, osei):
    consent_to(patient, Channel.PORTAL, RESULTS, nurse)
    asked = results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    body = Delivery.objects.get().body
    assert asked.portal and asked.decision.outcome == "sent"
    assert body == ("Riverside Family Medicine: Your results are ready. Please call the "
                    f"office at 617-555-0100. Reply STOP to opt out. {django_settings.SITE_URL}"
                    f"/r/{asked.token}/")
    url = linked(body)
    assert "Your results are ready" not in client.get(url).content.decode()
    shown = client.post(url, {"date_of_birth": WALTER_DOB.isoformat()}).content.decode()
    assert "Your results are ready" in shown and not any(s in shown for s in SECRETS)


def test_without_text_consent_nothing_is_queued_and_the_link_is_still_recorded(
        practice, nurse, osei):
    patient = walter(practice)
    consent_to(patient, Channel.PORTAL, RESULTS, nurse)  # the portal is not a text
    asked = results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    assert (asked.decision.outcome, asked.decision.reason) == ("withheld", "no-consent")
    assert not Delivery.objects.exists() and asked.call is None
    assert ResultsLink.objects.get() == asked.link == asked.decision.results_link


def test_an_unverified_mobile_is_never_texted(practice, nurse, osei):
    patient = walter(practice, verified=False)
    consent_to(patient, Channel.SMS, RESULTS, nurse)
    asked = results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    assert asked.decision.reason == "unverified-contact" and not Delivery.objects.exists()


def test_a_stop_from_the_number_withholds_it(practice, patient, nurse, osei):
    consent_to(patient, Channel.SMS, RESULTS, nurse, granted=False)
    asked = results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    assert (asked.decision.outcome, asked.decision.reason) == ("withheld", "opted-out")
    assert not Delivery.objects.exists()


def test_at_night_it_waits_for_the_morning_and_then_goes_with_the_link(
        client, practice, patient, nurse, osei):
    consent_to(patient, Channel.PORTAL, RESULTS, nurse)
    with time_machine.travel(NIGHT, tick=False):
        asked = results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    assert (asked.decision.outcome, asked.decision.reason) == ("deferred", "quiet-hours")
    assert asked.decision.due_at == MORNING.replace(second=0)  # 08:00 in Boston
    assert not Delivery.objects.exists()
    with time_machine.travel(MORNING, tick=False):
        assert decisions.send_deferred() == 1
    again = SendDecision.objects.get(deferred_from=asked.decision)
    assert again.outcome == "sent" and again.results_link == asked.link
    body = Delivery.objects.get().body
    assert again.delivery.body == body and body.endswith(f"/r/{asked.token}/")
    shown = client.post(linked(body), {"date_of_birth": WALTER_DOB.isoformat()})
    assert "Your results are ready" in shown.content.decode()


def test_a_portal_consent_revoked_overnight_sends_the_morning_text_without_the_link(
        practice, patient, nurse, osei):
    consent_to(patient, Channel.PORTAL, RESULTS, nurse)
    with time_machine.travel(NIGHT, tick=False):
        results.request(practice, patient, by=nurse, channel="sms", provider=osei)
    with time_machine.travel(MORNING, tick=False):
        consent_to(patient, Channel.PORTAL, RESULTS, nurse, granted=False)
        assert decisions.send_deferred() == 1
    assert "/r/" not in Delivery.objects.get().body


def test_the_link_is_unguessable_and_only_its_hash_is_stored(asked):
    assert len(asked.token) >= 22
    assert not ResultsLink.objects.filter(token_hash=asked.token).exists()
    assert ResultsLink.objects.get().token_hash == results.digest(asked.token)


def test_the_page_asks_for_the_date_of_birth_and_shows_nothing_else(client, asked):
    html = client.get(link_url(asked)).content.decode()
    assert "please enter your date of birth" in html
    assert "Your results are ready" not in html
    assert not any(s in html for s in SECRETS)
    assert AuditEvent.objects.filter(action=Action.RESULTS_LINK).count() == 1


def test_the_right_date_of_birth_shows_how_to_get_the_results(client, asked):
    response = client.post(link_url(asked), {"date_of_birth": WALTER_DOB.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your results are ready" in html and "617-555-0100" in html
    assert "does not show results" in html
    assert not any(s in html for s in SECRETS)
    assert ResultsLink.objects.get().verified_at is not None


def test_five_wrong_tries_lock_the_link_and_each_is_audited(client, asked):
    for n in range(1, 5):
        response = client.post(link_url(asked), {"date_of_birth": f"01/0{n}/1960"})
        assert response.status_code == 400
        assert "does not match our records" in response.content.decode()
    response = client.post(link_url(asked), {"date_of_birth": "1960-01-05"})
    assert response.status_code == 403 and "locked" in response.content.decode()
    # Locked: even the right date of birth shows nothing now.
    response = client.post(link_url(asked), {"date_of_birth": WALTER_DOB.isoformat()})
    assert response.status_code == 403
    assert "Your results are ready" not in response.content.decode()
    tries = AuditEvent.objects.filter(action=Action.RESULTS_LINK)
    assert tries.count() == 5 and {t.outcome for t in tries} == {Outcome.DENIED}
    assert AuditEvent.objects.filter(action=Action.RESULTS_LINK_LOCK).count() == 1
    for event in AuditEvent.objects.all():
        assert not phi_in_audit(event, [*SECRETS, "1960"])


def test_an_unknown_or_expired_link_is_a_404(client, asked):
    assert client.get(reverse("results_link", args=["nope"])).status_code == 404
    ResultsLink.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert client.get(link_url(asked)).status_code == 404


def test_many_tries_from_one_address_are_throttled(client, practice, patient, nurse, osei):
    # The second and later texts are withheld by the daily cap; their links are recorded.
    links = [results.request(practice, patient, by=nurse, channel="sms", provider=osei)
             for _ in range(5)]
    assert [a.decision.reason for a in links] == ["", *["frequency-cap"] * 4]
    for asked in links:
        for _ in range(4):
            client.post(link_url(asked), {"date_of_birth": "1960-01-01"})
    response = client.post(link_url(links[0]), {"date_of_birth": WALTER_DOB.isoformat()})
    assert response.status_code == 429 and "Too many tries" in response.content.decode()


@pytest.mark.parametrize("value", ["", "yesterday", "31/31/1999", "2999-01-01", "0001-01-01",
                                   "1958-04-02\x00", "x" * 5000])
def test_bad_dates_get_a_clear_400(client, asked, value):
    response = client.post(link_url(asked), {"date_of_birth": value})
    assert response.status_code == 400
    assert "date of birth" in response.content.decode()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["date_of_birth", "csrfmiddlewaretoken", "x"]),
                       st.text(max_size=40), max_size=3))
def test_the_form_never_fails_with_a_500(client, asked, data):
    # Whatever is posted: a page, a clear 400, the lock's 403 or the throttle's 429.
    response = client.post(link_url(asked), data)
    assert response.status_code in (200, 400, 403, 429)


def test_a_voice_request_places_a_call_through_the_decision(practice, patient, nurse, osei):
    consent_to(patient, Channel.VOICE, RESULTS, nurse)
    asked = results.request(practice, patient, by=nurse, channel="voice", provider=osei)
    assert asked.call is not None and asked.call.results_link == asked.link
    delivery = Delivery.objects.get()
    assert delivery.body == ("Hello, this is a message from Dr. Amara Osei's office regarding "
                             "your results. Please call us back at 6 1 7, 5 5 5, 0 1 0 0. "
                             "Thank you.")
    assert delivery.to == "+16175550142" and delivery.call_step == f"call={asked.call.pk}"
    decision = asked.decision
    assert (decision.outcome, decision.channel) == ("sent", "voice")
    assert decision.results_link == asked.link and decision.delivery == delivery
    assert decision.secure_token == ""  # a call carries no link


def test_without_call_consent_a_voicemail_consent_places_the_call_for_the_voicemail(
        practice, patient, nurse, osei):
    consent_to(patient, Channel.VOICEMAIL, RESULTS, nurse)
    asked = results.request(practice, patient, by=nurse, channel="voice", provider=osei)
    assert (asked.decision.outcome, asked.decision.channel) == ("sent", "voicemail")
    assert asked.call is not None and asked.decision.delivery == asked.call.delivery


def test_without_call_or_voicemail_consent_no_call_is_placed(practice, patient, nurse, osei):
    asked = results.request(practice, patient, by=nurse, channel="voice", provider=osei)
    assert (asked.decision.outcome, asked.decision.reason) == ("withheld", "no-consent")
    assert asked.decision.channel == "voice"
    assert not Delivery.objects.exists() and not OutreachCall.objects.exists()
    assert asked.link.channel == "voice"


def test_a_voicemail_naming_a_specialty_is_withheld_by_the_guard(practice, patient, nurse):
    lee = Provider.objects.create(practice=practice, display_name="Dr. Lee (Oncology)")
    consent_to(patient, Channel.VOICEMAIL, RESULTS, nurse)
    asked = results.request(practice, patient, by=nurse, channel="voicemail", provider=lee)
    assert (asked.decision.outcome, asked.decision.reason) == ("withheld", "phi")
    assert not Delivery.objects.exists() and not OutreachCall.objects.exists()


def test_a_call_at_night_is_placed_in_the_morning(practice, patient, nurse, osei):
    consent_to(patient, Channel.VOICE, RESULTS, nurse)
    with time_machine.travel(NIGHT, tick=False):
        asked = results.request(practice, patient, by=nurse, channel="voice", provider=osei)
    assert asked.decision.outcome == "deferred" and asked.call is None
    assert not Delivery.objects.exists()
    with time_machine.travel(MORNING, tick=False):
        assert decisions.send_deferred() == 1
    call = OutreachCall.objects.get()
    again = SendDecision.objects.get(deferred_from=asked.decision)
    assert call.results_link == asked.link == again.results_link
    assert again.delivery == call.delivery == Delivery.objects.get()


def test_only_voice_or_text(practice, patient, nurse):
    with pytest.raises(ValueError, match="told by"):
        results.request(practice, patient, by=nurse, channel="email")
    assert not ResultsLink.objects.exists()


def test_a_practice_that_keeps_its_name_out_shows_it_only_after_the_date_of_birth(
        client, practice, asked):
    practice.name_in_messages = False
    practice.save()
    html = client.get(link_url(asked)).content.decode()
    assert "Riverside" not in html and "your doctor&#x27;s office" in html
    html = client.post(link_url(asked), {"date_of_birth": WALTER_DOB.isoformat()}
                       ).content.decode()
    assert "Riverside Family Medicine gives them to you" in html
