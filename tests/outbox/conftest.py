"""The outbox's test kit: a practice whose texts go out through Twilio for real (only the
vendor's HTTP edge is replaced, once, with autospec), and helpers to read deliveries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from twilio.http.response import Response

from clinicline.practices.models import BusinessAssociateAgreement, GatewayAccount, Practice, Vendor

ACCOUNT_SID = "AC" + "1" * 32


def go_live(practice: Practice, *, baa_expires: dt.date | None = None) -> GatewayAccount:
    """The practice sends through its own Twilio account, under a BAA recorded today."""
    today = dt.datetime.now(practice.tz).date()  # the practice's day, as current_baa reads it
    BusinessAssociateAgreement.objects.create(
        practice=practice, vendor=Vendor.objects.get(slug="twilio"),
        signed_on=today - dt.timedelta(days=400), effective_on=today - dt.timedelta(days=365),
        expires_on=baa_expires, document_ref="contracts/twilio-baa.pdf")
    return GatewayAccount.objects.create(practice=practice, phone_number=practice.callback_number,
                                         account_sid=ACCOUNT_SID, auth_token="live-token",
                                         test_mode=False)


@pytest.fixture
def live(practice) -> GatewayAccount:
    return go_live(practice)


def twilio_reply(status: int, **payload: Any) -> Response:
    """What Twilio's REST API answers, as its own HTTP client hands it back."""
    if status >= 400:
        payload = {"code": payload.get("code", 20001 if status < 500 else 20500),
                   "message": "refused" if status < 500 else "internal error",
                   "status": status, **payload}
    return Response(status, json.dumps(payload))


@contextmanager
def twilio_answers(*replies: Response | BaseException) -> Iterator[mock.MagicMock]:
    """Twilio's network edge answers with ``replies`` in turn (the last one repeats)."""
    answers = list(replies)

    def next_answer(*_: Any, **__: Any) -> Response:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    with mock.patch("twilio.http.http_client.TwilioHttpClient.request", autospec=True,
                    side_effect=next_answer) as request:
        yield request
