"""A reminder call through the practice's live Twilio account: a call to the outreach
webhook with the call's id, and answering-machine detection. Twilio's network edge is
mocked once, with autospec (tests/gateways/test_twilio_transport.py)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from clinicline.outbox import service as outbox
from clinicline.outreach import voice
from tests.gateways.test_twilio_transport import (  # noqa: F401 (fixtures)
    API,
    CALL_SID,
    SITE,
    account,
    answer,
    live,
    the_request,
    twilio,
)
from tests.outreach.voice_support import booked_reminder

pytestmark = pytest.mark.django_db


@override_settings(SITE_URL=SITE)
def test_a_reminder_call_asks_twilio_to_detect_machines_and_starts_at_the_outreach_webhook(
        practice, practice_admin, live, twilio):  # noqa: F811
    twilio.return_value = answer(201, sid=CALL_SID, status="queued")
    call = voice.place_reminder_call(booked_reminder(practice, practice_admin),
                                     to="+16175550142")
    assert outbox.send_due() == 1
    _, method, url, kwargs = the_request(twilio)
    assert (method, url) == ("POST", f"{API}/Calls.json")
    data = kwargs["data"]
    assert data["Url"] == f"{SITE}/gateways/twilio/voice/outreach?call={call.pk}"
    assert data["MachineDetection"] == "Enable" and "Twiml" not in data
