"""Twilio's REST API for one practice number, as far as the tests reach it: the one fake
behind ``TwilioHttpClient.request`` (the vendor's network edge) for looking up a number and
setting its webhooks."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from twilio.http.response import Response

SID = "AC" + "3f" * 16
TOKEN = "s3cr3t-auth-token-0123456789abcdef"
SITE = "https://answering.riverside.example"
NUMBER = "+16175550100"
NUMBER_SID = "PN" + "7" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers"
VOICE = f"{SITE}/gateways/twilio/voice#ct=3000&rt=8000&tt=12000&rc=1&rp=ct,rt"
VOICE_FALLBACK = f"{SITE}/gateways/twilio/voice/fallback#ct=3000&rt=8000&tt=12000&rc=1&rp=ct,rt"
SMS = f"{SITE}/gateways/twilio/sms#ct=3000&rt=5000&tt=15000&rc=5&rp=5xx,ct,rt"


def number(**urls: str) -> dict[str, Any]:
    return {"sid": NUMBER_SID, "account_sid": SID, "phone_number": NUMBER,
            "voice_url": "https://demo.twilio.com/welcome/voice/", "voice_method": "POST",
            "voice_fallback_url": None, "sms_url": "https://demo.twilio.com/welcome/sms/reply",
            "sms_method": "POST", "sms_fallback_url": None, **urls}


class Twilio:
    """Twilio's REST API for one account with one number, as far as these tests reach it."""

    def __init__(self) -> None:
        self.held = number()
        self.refuse: int | None = None
        self.numbers = [NUMBER]

    def __call__(self, client: Any, method: str, uri: str, params: Any = None,
                 data: Any = None, **kwargs: Any) -> Response:
        assert kwargs["auth"] == (SID, TOKEN)
        if self.refuse:
            return Response(self.refuse, json.dumps({"code": 20003, "status": self.refuse,
                                                     "message": "Authenticate"}))
        if method == "GET" and uri == f"{API}.json":
            listed = [self.held] if params["PhoneNumber"] in self.numbers else []
            return Response(200, json.dumps({"incoming_phone_numbers": listed,
                                             "next_page_uri": None, "page": 0,
                                             "page_size": 2, "uri": urlsplit(uri).path}))
        if method == "POST" and uri == f"{API}/{NUMBER_SID}.json":
            wire = {"VoiceUrl": "voice_url", "VoiceFallbackUrl": "voice_fallback_url",
                    "SmsUrl": "sms_url", "SmsFallbackUrl": "sms_fallback_url"}
            self.held = {**self.held, **{wire[k]: v for k, v in data.items() if k in wire}}
            return Response(200, json.dumps(self.held))
        raise AssertionError(f"unexpected Twilio request {method} {uri}")
