"""Nothing Twilio's endpoints receive may make a 500: a few hundred random and malformed
bodies, many of them correctly signed so that they get past the signature to the parsing
and the handlers behind it. Seeded, so a failure replays exactly."""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest
from django.test import Client, override_settings

from clinicline.gateways.models import InboundWebhook
from clinicline.practices.models import GatewayAccount
from tests.gateways.test_webhooks import (
    ACCOUNT_SID,
    FORM,
    GATHER,
    NUMBER,
    PAGE,
    PATIENT,
    RECORDING,
    SITE,
    SMS,
    STATUS,
    VOICE,
    sign,
)

pytestmark = pytest.mark.django_db

CASES = 400
SEED = 20260302
OUTREACH = "/gateways/twilio/voice/outreach"  # a reminder or results call's steps
URLS = [VOICE, GATHER, RECORDING, SMS, STATUS, PAGE, PAGE + "?step=menu&page=1&member=1",
        OUTREACH, OUTREACH + "?step=key&call=8c1b6a53-4a1d-4d0e-9a43-2f7d0c1e5b11&ok=0"]
KNOWN = ["To", "From", "CallSid", "MessageSid", "SmsSid", "AccountSid", "RecordingSid",
         "RecordingUrl", "RecordingStatus", "RecordingDuration", "MessageStatus", "CallStatus",
         "ErrorCode", "Digits", "Body", "NumMedia", "Direction", "AnsweredBy"]
ODD = ["", " ", "\x00", "\x00" * 3, "²", "١٢٣", "😷" * 40, "null", "-1", "99999999999999999999",
       "0x1F", "' OR 1=1 --", "<Response><Dial>911</Dial></Response>", "%00", "..%2F..%2F",
       "loopback://riverside/../../master.key", "file:///etc/passwd", "http://169.254.169.254/",
       "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", "completed",
       "delivered", "failed", "no-answer", "hangup", "#", "*9", "\r\n\r\n", "a" * 5000]


def value(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.3:
        return rng.choice(ODD)
    if pick < 0.5:  # plausible ids and numbers, so some requests get all the way through
        return rng.choice(["CA", "SM", "RE", "MM"]) + "".join(
            rng.choice("0123456789abcdef") for _ in range(32))
    if pick < 0.6:
        return rng.choice([NUMBER, PATIENT, "+1617555010", "client:alice", "+00000000"])
    alphabet = "".join(chr(c) for c in (*range(32, 127), 0, 9, 10, 0xE9, 0x2028, 0xFEFF))
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))


def params(rng: random.Random) -> dict[str, str]:
    found = {name: value(rng) for name in rng.sample(KNOWN, rng.randrange(0, len(KNOWN)))}
    for _ in range(rng.randrange(0, 4)):
        found[value(rng)[:30] or "x"] = value(rng)
    if rng.random() < 0.7:  # mostly to the practice, so the signature can be checked
        found["To"] = NUMBER
    return found


def request(rng: random.Random, client: Client) -> int:
    url = rng.choice(URLS) + rng.choice(["", "", "?step=menu", "?a=%00&b=" + "9" * 300])
    kind = rng.random()
    if kind < 0.75:  # a form, signed right, wrongly or not at all
        form = params(rng)
        signature = rng.choice([sign(SITE + url, form)] * 3 + ["", "forged", "\x00" * 28])
        return client.post(url, urlencode(form), content_type=FORM,
                           headers={"X-Twilio-Signature": signature} if signature else {}
                           ).status_code
    if kind < 0.85:  # Django's own multipart encoding of a random form
        form = {k.replace("\x00", ""): v for k, v in params(rng).items()}
        return client.post(url, form).status_code
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
    content_type = rng.choice([FORM, "multipart/form-data; boundary=zz", "application/json",
                               "text/plain", "application/octet-stream"])
    return client.post(url, body, content_type=content_type).status_code


def test_random_and_malformed_bodies_never_make_a_500(practice):
    GatewayAccount.objects.create(practice=practice, phone_number=NUMBER,
                                  account_sid=ACCOUNT_SID, auth_token="riverside-auth-token",
                                  test_mode=True)
    rng = random.Random(SEED)
    client = Client()
    statuses: dict[int, int] = {}
    with override_settings(SITE_URL=SITE):
        for _ in range(CASES):
            status = request(rng, client)
            statuses[status] = statuses.get(status, 0) + 1
    assert all(status < 500 for status in statuses), statuses
    # The fuzz reached every layer: refusals of each kind, and accepted events.
    assert {200, 400, 403, 404} <= set(statuses), statuses
    assert InboundWebhook.objects.exists()
