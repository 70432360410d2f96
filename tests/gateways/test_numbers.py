"""Going live points the practice's number at clinicline through Twilio's API: voice and
messaging webhooks, a fallback URL for each, and Twilio's connection overrides. The gateway
page reads back what Twilio holds. Only Twilio's network edge (``TwilioHttpClient.request``)
is replaced, once, so the assertions are about the HTTP requests the library builds."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from clinicline.audit.models import Action, AuditEvent, Outcome
from clinicline.gateways import numbers
from clinicline.practices.models import GatewayAccount
from tests.gateways.test_settings_pages import set_up, sign_twilio_baa, url
from tests.gateways.twilio_numbers import (
    API,
    NUMBER,
    NUMBER_SID,
    SITE,
    SMS,
    TOKEN,
    VOICE,
    VOICE_FALLBACK,
    number,
)

pytestmark = pytest.mark.django_db

def test_configure_sets_both_webhooks_their_fallbacks_and_connection_overrides(practice,
                                                                                twilio_numbers):
    api, request = twilio_numbers
    account = set_up(practice, test_mode=False)
    held = numbers.configure(account)
    assert held == numbers.NumberUrls(VOICE, VOICE_FALLBACK, SMS, SMS)
    assert request.call_count == 2
    (_, method, uri), kwargs = request.call_args_list[0].args, request.call_args_list[0].kwargs
    assert (method, uri, kwargs["params"]["PhoneNumber"]) == ("GET", f"{API}.json", NUMBER)
    (_, method, uri), kwargs = request.call_args_list[1].args, request.call_args_list[1].kwargs
    assert (method, uri) == ("POST", f"{API}/{NUMBER_SID}.json")
    assert kwargs["data"] == {
        "VoiceUrl": VOICE, "VoiceMethod": "POST",
        "VoiceFallbackUrl": VOICE_FALLBACK, "VoiceFallbackMethod": "POST",
        "SmsUrl": SMS, "SmsMethod": "POST", "SmsFallbackUrl": SMS, "SmsFallbackMethod": "POST"}


def test_the_overrides_stay_within_twilios_limits_and_the_fragment_is_not_part_of_the_path():
    for overrides in (numbers.VOICE_OVERRIDES, numbers.TEXT_OVERRIDES):
        values = dict(pair.split("=") for pair in overrides.split("&"))
        assert 100 <= int(values["ct"]) <= 10_000
        assert 100 <= int(values["rt"]) <= 15_000 and 100 <= int(values["tt"]) <= 15_000
        assert 0 <= int(values["rc"]) <= 5
        assert set(values["rp"].split(",")) <= {"4xx", "5xx", "ct", "rt", "all"}
    with override_settings(SITE_URL=SITE):
        # Twilio signs the URL without its fragment, which is what the webhook rebuilds.
        assert urlsplit(numbers.expected().sms_url).path == "/gateways/twilio/sms"


def test_going_live_points_the_number_at_clinicline_and_audits_it(practice, admin, twilio_numbers):
    api, _ = twilio_numbers
    set_up(practice)
    sign_twilio_baa(practice)
    assert admin.post(url(practice, "mode"), {"mode": "live"}).status_code == 302
    assert GatewayAccount.objects.get().test_mode is False
    assert (api.held["voice_url"], api.held["sms_fallback_url"]) == (VOICE, SMS)
    events = AuditEvent.objects.filter(action=Action.GATEWAY_CHANGE).order_by("seq")
    assert [(e.fields, e.outcome) for e in events] == [
        ("twilio_webhooks", Outcome.SUCCESS), ("test_mode", Outcome.SUCCESS)]


def test_going_live_is_refused_when_twilio_refuses_and_says_why(practice, admin, twilio_numbers):
    api, _ = twilio_numbers
    api.refuse = 401
    set_up(practice)
    sign_twilio_baa(practice)
    response = admin.post(url(practice, "mode"), {"mode": "live"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "check the account SID and auth token" in page and "stays in test mode" in page
    assert TOKEN not in page
    assert GatewayAccount.objects.get().test_mode is True
    event = AuditEvent.objects.get(action=Action.GATEWAY_CHANGE)
    assert event.outcome == Outcome.DENIED and "could not be set at Twilio" in event.reason


def test_going_live_is_refused_when_the_account_does_not_hold_the_number(practice, admin,
                                                                         twilio_numbers):
    api, _ = twilio_numbers
    api.numbers = []
    set_up(practice)
    sign_twilio_baa(practice)
    response = admin.post(url(practice, "mode"), {"mode": "live"})
    assert response.status_code == 400
    assert f"has no number {NUMBER}" in response.content.decode()
    assert GatewayAccount.objects.get().test_mode is True


def test_the_gateway_page_compares_what_twilio_holds_with_what_it_should(practice, admin,
                                                                         twilio_numbers):
    api, request = twilio_numbers
    set_up(practice, test_mode=False)
    sign_twilio_baa(practice)
    assert request.call_count == 0  # showing the page calls nobody
    assert "Check at Twilio" in admin.get(url(practice)).content.decode()
    api.held = number(voice_url=VOICE, voice_fallback_url=VOICE_FALLBACK, sms_url=SMS,
                      sms_fallback_url=None)
    page = admin.post(url(practice, "numbers"), {"check": "1"}).content.decode()
    assert page.count("matches") == 3 and page.count("differs") == 1
    assert "(not set)" in page
    assert not AuditEvent.objects.filter(action=Action.GATEWAY_CHANGE).exists()  # a read

    page = admin.post(url(practice, "numbers"), {"configure": "1"}).content.decode()
    assert "All four match." in page
    assert AuditEvent.objects.get(action=Action.GATEWAY_CHANGE).fields == "twilio_webhooks"


def test_the_check_says_what_went_wrong_when_twilio_cannot_be_asked(practice, admin,
                                                                    twilio_numbers):
    api, _ = twilio_numbers
    api.refuse = 500
    set_up(practice, test_mode=False)
    response = admin.post(url(practice, "numbers"), {"check": "1"})
    assert response.status_code == 502
    assert "Twilio refused to look up the number (500 error 20003)" in response.content.decode()


def test_a_practice_in_test_mode_has_nothing_to_check(practice, admin, twilio_numbers):
    _, request = twilio_numbers
    set_up(practice)
    response = admin.post(url(practice, "numbers"), {"check": "1"})
    assert response.status_code == 302 and request.call_count == 0
