"""Where Twilio sends a practice number's calls and texts, set through Twilio's API.

When a practice goes live, ``configure`` points its number's voice and messaging webhooks at
clinicline, with a fallback URL for each and Twilio's connection overrides (the URL fragment
``#ct=…&rt=…&tt=…&rc=…&rp=…``, which Twilio reads and never sends):

- a call: a short connect and read timeout and one retry, then Twilio asks the voice
  fallback URL, which answers with the emergency line and the fallback phone without the
  database (``webhooks.voice_fallback``), so a caller is not left in silence;
- a text: five retries of a 503, a refused connection or a timeout within Twilio's whole
  15-second budget, then the fallback URL, the same webhook with a budget of its own. A
  text is only ever answered 2xx once it is stored, so the fallback cannot be a canned
  reply.

Twilio allows no more than 15 seconds for one URL and its retries. An outage longer than
both budgets leaves a text in Twilio's message log, not here: docs/gateways.md says how to
find it. ``check`` reads what is configured at Twilio now and compares it with ``expected``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest.api.v2010.account.incoming_phone_number import IncomingPhoneNumberInstance

from clinicline.gateways.transports.twilio import client_for
from clinicline.practices.models import GatewayAccount

VOICE_OVERRIDES = "ct=3000&rt=8000&tt=12000&rc=1&rp=ct,rt"
TEXT_OVERRIDES = "ct=3000&rt=5000&tt=15000&rc=5&rp=5xx,ct,rt"
METHOD = "POST"
LABELS = {"voice_url": "Voice webhook", "voice_fallback_url": "Voice fallback URL",
          "sms_url": "Messaging webhook", "sms_fallback_url": "Messaging fallback URL"}


class NumberError(Exception):
    """Twilio refused or could not be reached; the message says which, never a secret."""


@dataclass(frozen=True)
class NumberUrls:
    voice_url: str
    voice_fallback_url: str
    sms_url: str
    sms_fallback_url: str


@dataclass(frozen=True)
class Check:
    """What Twilio holds for the number, field by field against what it should hold."""

    expected: NumberUrls
    configured: NumberUrls

    @property
    def rows(self) -> list[tuple[str, str, str, bool]]:
        want, have = asdict(self.expected), asdict(self.configured)
        return [(label, want[name], have[name], want[name] == have[name])
                for name, label in LABELS.items()]

    @property
    def matches(self) -> bool:
        return self.expected == self.configured


def url(name: str, overrides: str) -> str:
    """A webhook's public URL (the one Twilio signs) with its connection overrides."""
    return f"{settings.SITE_URL.rstrip('/')}{reverse(name)}#{overrides}"


def expected() -> NumberUrls:
    return NumberUrls(
        voice_url=url("gateways:twilio_voice", VOICE_OVERRIDES),
        voice_fallback_url=url("gateways:twilio_voice_fallback", VOICE_OVERRIDES),
        sms_url=url("gateways:twilio_sms", TEXT_OVERRIDES),
        sms_fallback_url=url("gateways:twilio_sms", TEXT_OVERRIDES))


def configure(account: GatewayAccount, http_client: HttpClient | None = None) -> NumberUrls:
    """Point the practice's number at clinicline; returns what Twilio now holds."""
    want = expected()
    number = _number(account, http_client)
    try:
        updated = number.update(
            voice_url=want.voice_url, voice_method=METHOD,
            voice_fallback_url=want.voice_fallback_url, voice_fallback_method=METHOD,
            sms_url=want.sms_url, sms_method=METHOD,
            sms_fallback_url=want.sms_fallback_url, sms_fallback_method=METHOD)
    except (TwilioException, OSError) as exc:
        raise NumberError(refusal(exc, "update the number")) from None
    return _urls(updated)


def check(account: GatewayAccount, http_client: HttpClient | None = None) -> Check:
    return Check(expected(), _urls(_number(account, http_client)))


def refusal(exc: Exception, doing: str) -> str:
    """Why Twilio did not do it, from its status and error code (never its message, which
    may quote what was sent)."""
    if isinstance(exc, TwilioRestException):
        status, code = exc.status, exc.code
    elif isinstance(exc, TwilioException) and len(exc.args) > 1 and isinstance(
            exc.args[1], Response):  # a list page it could not fetch
        status, code = exc.args[1].status_code, _code(exc.args[1])
    else:
        return f"Twilio could not be reached ({type(exc).__name__})."
    hint = ": check the account SID and auth token" if status in (401, 403) else ""
    return f"Twilio refused to {doing} ({status} error {code}){hint}."


def _code(response: Response) -> object:
    try:
        return json.loads(response.text).get("code", "unknown")
    except (ValueError, AttributeError):
        return "unknown"


def _number(account: GatewayAccount,
            http_client: HttpClient | None) -> IncomingPhoneNumberInstance:
    client = client_for(account, http_client)
    try:
        found = client.incoming_phone_numbers.list(phone_number=account.phone_number, limit=2)
    except (TwilioException, OSError) as exc:
        raise NumberError(refusal(exc, "look up the number")) from None
    if len(found) != 1:
        raise NumberError(f"The Twilio account has no number {account.phone_number}.")
    return found[0]


def _urls(number: IncomingPhoneNumberInstance) -> NumberUrls:
    return NumberUrls(*(getattr(number, name, None) or "" for name in LABELS))
