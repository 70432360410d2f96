"""The Twilio transport, driven the way production drives it: real Delivery rows sent by the
outbox's ``send_due``, through the real `twilio` library. Only Twilio's network edge —
``TwilioHttpClient.request`` — is replaced, once, with autospec, so the assertions are
about the HTTP request the library really builds."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
import requests
from django.test import Client, override_settings
from django.utils import timezone
from twilio.http.response import Response

from clinicline import claims
from clinicline.gateways.transports.twilio import TIMEOUT_S
from clinicline.outbox import service
from clinicline.outbox.models import Delivery, Status
from clinicline.practices.models import BusinessAssociateAgreement, GatewayAccount, Practice, Vendor
from clinicline.simulator.models import SimulatorEvent
from tests.gateways.test_webhooks import FORM, SITE, sign

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "2" * 32
TOKEN = "riverside-live-token"
NUMBER = "+16175550100"
PATIENT = "+16175550142"
BODY = "Riverside Family Medicine: please call us at (617) 555-0100."
MESSAGE_SID = "SM" + "3" * 32
CALL_SID = "CA" + "4" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"


def record_baa(practice: Practice, *, effective: dt.date, expires: dt.date | None = None) -> None:
    BusinessAssociateAgreement.objects.create(
        practice=practice, vendor=Vendor.objects.get(slug="twilio"),
        signed_on=effective - dt.timedelta(days=30), effective_on=effective, expires_on=expires,
        document_ref="contracts/twilio-baa-2026.pdf")


@pytest.fixture
def account(practice: Practice) -> GatewayAccount:
    """Riverside's own Twilio account, live (not test mode)."""
    return GatewayAccount.objects.create(practice=practice, phone_number=NUMBER,
                                         account_sid=ACCOUNT_SID, auth_token=TOKEN,
                                         test_mode=False)


@pytest.fixture
def live(practice: Practice, account: GatewayAccount) -> GatewayAccount:
    record_baa(practice, effective=dt.datetime.now(practice.tz).date() - dt.timedelta(days=365))
    return account


@pytest.fixture
def twilio() -> Iterator[mock.MagicMock]:
    """Twilio's network edge; each test says what it answers."""
    with mock.patch("twilio.http.http_client.TwilioHttpClient.request",
                    autospec=True) as request:
        yield request


def answer(http_status: int, **payload: Any) -> Response:
    """What Twilio's REST API answers, as the library's HTTP client hands it back."""
    if http_status >= 400:
        payload = {"code": 21211 if http_status < 500 else 20500, "status": http_status,
                   "message": "The 'To' number is not a valid phone number.", **payload}
    return Response(http_status, json.dumps(payload))


def enqueue(practice: Practice, channel: str = "sms") -> Delivery:
    return service.enqueue(practice, channel=channel, to=PATIENT, body=BODY, purpose="reminder",
                           idempotency_key=f"reminder-{channel}")


def reread(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def the_request(twilio: mock.MagicMock) -> tuple[Any, str, str, dict[str, Any]]:
    (client, method, url), kwargs = twilio.call_args.args, twilio.call_args.kwargs
    return client, method, url, kwargs


@override_settings(SITE_URL=SITE)
def test_a_text_is_posted_to_twilio_and_the_row_keeps_its_sid(practice, live, twilio):
    twilio.return_value = answer(201, sid=MESSAGE_SID, status="queued")
    delivery = enqueue(practice)
    assert service.send_due() == 1
    delivery = reread(delivery)
    assert (delivery.status, delivery.transport, delivery.vendor_id, delivery.attempts) == \
        (Status.SENT, "twilio", MESSAGE_SID, 1)
    assert twilio.call_count == 1
    client, method, url, kwargs = the_request(twilio)
    assert (method, url) == ("POST", f"{API}/Messages.json")
    assert kwargs["data"] == {"To": PATIENT, "From": NUMBER, "Body": BODY,
                              "StatusCallback": f"{SITE}/gateways/twilio/status"}
    assert kwargs["auth"] == (ACCOUNT_SID, TOKEN)
    assert client.timeout == TIMEOUT_S  # a hung connection must not hold the worker
    assert not SimulatorEvent.objects.exists()


@override_settings(SITE_URL=SITE + "/")
def test_a_voice_delivery_is_a_call_that_speaks_the_text_as_twiml(practice, live, twilio):
    twilio.return_value = answer(201, sid=CALL_SID, status="queued")
    delivery = enqueue(practice, channel="voice")
    service.send_due()
    assert (reread(delivery).status, reread(delivery).vendor_id) == (Status.SENT, CALL_SID)
    _, method, url, kwargs = the_request(twilio)
    assert (method, url) == ("POST", f"{API}/Calls.json")
    data = kwargs["data"]
    assert (data["To"], data["From"]) == (PATIENT, NUMBER)
    # One slash, whatever SITE_URL ends with: the status webhook rebuilds this exact URL.
    assert data["StatusCallback"] == f"{SITE}/gateways/twilio/status"
    root = ET.fromstring(data["Twiml"])  # noqa: S314 (the TwiML we built)
    assert root.tag == "Response"
    assert [(child.tag, child.text) for child in root] == [("Say", BODY)]


@override_settings(SITE_URL=SITE)
def test_a_voice_page_is_a_call_to_the_page_webhook_with_answering_machine_detection(
        practice, live, twilio):
    twilio.return_value = answer(201, sid=CALL_SID, status="queued")
    step = "page=8c1b6a53-4a1d-4d0e-9a43-2f7d0c1e5b11&member=7"
    delivery = service.enqueue(practice, channel="voice", to=PATIENT, body=BODY,
                               purpose="page", idempotency_key="page-voice", call_step=step)
    service.send_due()
    assert reread(delivery).vendor_id == CALL_SID
    _, method, url, kwargs = the_request(twilio)
    assert (method, url) == ("POST", f"{API}/Calls.json")
    data = kwargs["data"]
    assert data["Url"] == f"{SITE}/gateways/twilio/voice/page?{step}"
    assert data["MachineDetection"] == "Enable"
    assert data["StatusCallback"] == f"{SITE}/gateways/twilio/status"
    assert "Twiml" not in data  # the webhook answers, step by step


@pytest.mark.parametrize("status", [500, 503, 429])
def test_twilio_trouble_is_tried_again_later(practice, live, twilio, status):
    twilio.return_value = answer(status)
    delivery = enqueue(practice)
    before = timezone.now()
    service.send_due()
    delivery = reread(delivery)
    assert (delivery.status, delivery.attempts) == (Status.QUEUED, 1)
    assert delivery.due_at >= before + dt.timedelta(seconds=claims.BACKOFF_BASE_S)
    assert delivery.error.startswith(f"Twilio {status} error")
    assert PATIENT not in delivery.error


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_request_twilio_refuses_fails_for_good(practice, live, twilio, status):
    twilio.return_value = answer(status)
    delivery = enqueue(practice)
    service.send_due()
    delivery = reread(delivery)
    assert (delivery.status, delivery.due_at) == (Status.FAILED, None)
    assert delivery.error.startswith(f"Twilio {status} error")
    service.send_due()
    assert twilio.call_count == 1  # never tried again


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"),
                                     requests.Timeout("read timed out"),
                                     requests.exceptions.SSLError("bad certificate")])
def test_a_network_failure_is_tried_again_later(practice, live, twilio, failure):
    twilio.side_effect = failure
    delivery = enqueue(practice)
    service.send_due()
    delivery = reread(delivery)
    assert (delivery.status, delivery.attempts) == (Status.QUEUED, 1)
    assert delivery.error == f"Twilio unreachable: {type(failure).__name__}"


def test_an_answer_that_cannot_be_read_is_tried_again_not_a_crash(practice, live, twilio):
    twilio.return_value = Response(201, "<html>proxy error</html>")
    delivery = enqueue(practice)
    service.send_due()
    delivery = reread(delivery)
    assert delivery.status == Status.QUEUED
    assert delivery.error.startswith("Twilio answered unreadably")


def test_without_a_baa_nothing_reaches_twilio(practice, account, twilio):
    delivery = enqueue(practice)
    service.send_due()
    delivery = reread(delivery)
    assert (delivery.status, delivery.error) == (Status.FAILED,
                                                 "no current BAA with Twilio on record")
    twilio.assert_not_called()


def test_an_expired_or_future_baa_is_no_baa(practice, account, twilio):
    today = dt.datetime.now(practice.tz).date()  # the practice's day, as current_baa reads it
    record_baa(practice, effective=today - dt.timedelta(days=800),
               expires=today - dt.timedelta(days=1))
    record_baa(practice, effective=today + dt.timedelta(days=30))
    delivery = enqueue(practice)
    service.send_due()
    assert reread(delivery).status == Status.FAILED
    twilio.assert_not_called()


def test_a_test_mode_account_texts_the_simulator_not_twilio(practice, live, twilio):
    GatewayAccount.objects.filter(pk=live.pk).update(test_mode=True)
    delivery = enqueue(practice)
    service.send_due()
    assert reread(delivery).transport == "loopback"
    assert SimulatorEvent.objects.filter(delivery=delivery).exists()
    twilio.assert_not_called()


def test_twilios_status_callback_for_what_it_sent_marks_it_delivered(practice, live, twilio):
    twilio.return_value = answer(201, sid=MESSAGE_SID, status="queued")
    delivery = enqueue(practice)
    with override_settings(SITE_URL=SITE):
        service.send_due()
        callback = the_request(twilio)[3]["data"]["StatusCallback"]
        path = callback.removeprefix(SITE)
        params = {"MessageSid": MESSAGE_SID, "MessageStatus": "delivered", "From": NUMBER,
                  "To": PATIENT, "AccountSid": ACCOUNT_SID}
        response = Client().post(path, urlencode(params), content_type=FORM,
                                 headers={"X-Twilio-Signature":
                                          sign(callback, params, token=TOKEN)})
    assert response.status_code == 200
    assert reread(delivery).status == Status.DELIVERED
