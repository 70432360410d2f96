"""Results ready: the request, what the text says (and the link only with portal
consent), and the link's page: nothing before the right date of birth, five wrong tries
lock it, every try audited without PHI, a throttle per address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.outbox.models import Delivery
from clinicline.outreach import results
from clinicline.outreach.voice_models import ResultsLink
from clinicline.patients.models import Channel, Purpose
from clinicline.practices.models import Provider
from tests.conftest import phi_in_audit
from tests.outreach.voice_support import consent_to

pytestmark = pytest.mark.django_db
WALTER_DOB = dt.date(1958, 4, 2)  # the conftest patient's
SECRETS = ("Walter", "Okafor", "1958", "04/02")


@pytest.fixture
def osei(practice) -> Provider:
    return Provider.objects.create(practice=practice, display_name="Dr. Amara Osei")


@pytest.fixture
def asked(practice, patient, nurse, osei) -> results.Requested:
    return results.request(practice, patient, by=nurse, channel="sms", to="+16175550142",
                           provider=osei)


def link_url(asked: results.Requested) -> str:
    return reverse("results_link", args=[asked.token])


def test_the_text_says_only_that_results_are_ready(asked):
    body = Delivery.objects.get().body
    assert body == ("Riverside Family Medicine: Your results are ready. Please call the "
                    "office at 617-555-0100. Reply STOP to opt out.")
    assert not asked.portal and "/r/" not in body


def test_a_portal_patient_also_gets_the_link(practice, patient, nurse, osei):
    consent_to(patient, Channel.PORTAL, Purpose.RESULTS_READY, nurse)
    asked = results.request(practice, patient, by=nurse, channel="sms", to="+16175550142",
                            provider=osei)
    body = Delivery.objects.get().body
    assert asked.portal and body.endswith(f"/r/{asked.token}/")


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
    links = [results.request(practice, patient, by=nurse, channel="sms",
                             to="+16175550142", provider=osei) for _ in range(5)]
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


def test_a_voice_request_places_a_call(practice, patient, nurse, osei):
    asked = results.request(practice, patient, by=nurse, channel="voice", to="+16175550142",
                            provider=osei)
    assert asked.call is not None and asked.call.results_link == asked.link
    body = Delivery.objects.get().body
    assert body == ("Hello, this is a message from Dr. Amara Osei's office regarding your "
                    "results. Please call us back at 6 1 7, 5 5 5, 0 1 0 0. Thank you.")


def test_only_voice_or_text(practice, patient, nurse):
    with pytest.raises(ValueError, match="told by"):
        results.request(practice, patient, by=nurse, channel="email", to="x@example.org")


def test_a_practice_that_keeps_its_name_out_shows_it_only_after_the_date_of_birth(
        client, practice, asked):
    practice.name_in_messages = False
    practice.save()
    html = client.get(link_url(asked)).content.decode()
    assert "Riverside" not in html and "your doctor&#x27;s office" in html
    html = client.post(link_url(asked), {"date_of_birth": WALTER_DOB.isoformat()}
                       ).content.decode()
    assert "Riverside Family Medicine gives them to you" in html
