"""In production the simulator does not exist: every one of its URLs is a 404, for anyone
signed in or not, by GET or POST, and nothing is logged or sent."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, get_resolver, reverse

from clinicline.accounts.roles import Role
from clinicline.gateways.models import InboundWebhook
from clinicline.practices.models import GatewayAccount, Practice
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.phones import phone_token
from tests.conftest import make_member, make_patient, signed_in

PATIENT_PHONE = "+16175550142"


def simulator_urls(practice: Practice) -> list[str]:
    """/simulator/ and every route of the simulator app, filled in for a patient's phone."""
    [include] = [p for p in get_resolver().url_patterns
                 if getattr(p, "namespace", None) == "simulator"]
    names = [p.name for p in include.url_patterns if isinstance(p, URLPattern)]
    token = phone_token(practice, PATIENT_PHONE)
    urls = [reverse("simulator")]
    for name in names:
        kwargs = {"practice": practice.slug} | ({"phone": token} if name not in (
            "phones", "open", "speak") else {})
        urls.append(reverse(f"simulator:{name}", kwargs=kwargs))
    return urls


@pytest.fixture
def office(practice: Practice) -> Practice:
    GatewayAccount.objects.create(practice=practice, phone_number="+16175550100",
                                  account_sid="AC" + "1" * 32, auth_token="riverside-test")
    make_patient(practice, phone=PATIENT_PHONE)
    return practice


def test_every_simulator_url_is_a_404_in_production(office):
    clients = {"nobody": Client()} | {
        role: signed_in(make_member(office, role)) for role in
        (Role.NURSE, Role.PROVIDER, Role.PRACTICE_ADMIN, Role.AGENT)}
    urls = simulator_urls(office)
    assert len(urls) == 15  # /simulator/, the list, open, speak, the phone and its 10 actions
    data = {"body": "hello", "key": "1", "words": "hi", "number": "(202) 555-0199"}

    with override_settings(PRODUCTION=True):
        answers = {(who, method, url): getattr(client, method)(url, data).status_code
                   for who, client in clients.items() for url in urls
                   for method in ("get", "post")}

    assert {status for status in answers.values()} == {404}, [
        key for key, status in answers.items() if status != 404]
    assert not SimulatorEvent.objects.exists() and not InboundWebhook.objects.exists()


def test_the_same_urls_answer_outside_production(office):
    """The positive control: the 404s above are production's, not broken URLs."""
    nurse = signed_in(make_member(office, Role.NURSE))
    for url in simulator_urls(office):
        assert nurse.get(url).status_code in (200, 302, 405, 409), url
