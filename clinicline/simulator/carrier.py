"""The carrier's side of the wire: the simulator plays Twilio.

Every text, call, key press and voicemail becomes the request Twilio would send — the same
parameters, signed with the practice's auth token — and goes through the whole Django stack
in-process (middleware, URL routing, signature check, idempotency, the registered handlers),
as an outside carrier's request would: the simulator knows our webhooks only by their URL
names (``gateways:twilio_*``) and by the TwiML they answer.

Only a test-mode account is ever signed for: the simulator must never become a signing
oracle for a live account's token.
"""

from __future__ import annotations

import io
import sys
import uuid
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from twilio.request_validator import RequestValidator

from clinicline.practices.models import GatewayAccount

API_VERSION = "2010-04-01"
LIVE_ACCOUNT = ("This practice's gateway is live. The simulator only signs requests for a "
                "test-mode account, so it never holds a live account's signing key.")


class SimulationRefused(Exception):
    """The simulator will not (or could not) do what was asked; ``status`` for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def base_params(account: GatewayAccount, number: str) -> dict[str, str]:
    return {"AccountSid": account.account_sid, "ApiVersion": API_VERSION,
            "From": number, "To": account.phone_number}


def call_params(account: GatewayAccount, number: str, call_sid: str,
                status: str, outbound: bool = False) -> dict[str, str]:
    """A call's parameters: the phone calling the practice, or (``outbound``) the
    practice's call to the phone, as Twilio describes a call made through its API."""
    if outbound:
        return base_params(account, number) | {
            "From": account.phone_number, "To": number, "CallSid": call_sid,
            "CallStatus": status, "Direction": "outbound-api",
            "Caller": account.phone_number, "Called": number}
    return base_params(account, number) | {
        "CallSid": call_sid, "CallStatus": status, "Direction": "inbound",
        "Caller": number, "Called": account.phone_number}


def post_webhook(account: GatewayAccount, path: str, params: dict[str, str]) -> str:
    """POST ``params`` to ``path`` as Twilio would; returns the answer's body (TwiML)."""
    if not account.test_mode:
        raise SimulationRefused(403, LIVE_ACCOUNT)
    site = settings.SITE_URL.rstrip("/")
    signature = RequestValidator(account.auth_token).compute_signature(site + path, params)
    request = WSGIRequest(wsgi_environ(path, urlencode(params).encode(), signature))
    # The handler's get_response, not its __call__: __call__ also fires request_started and
    # request_finished, whose close_old_connections would close the database connection that
    # the member's own request (which is running this) is still using.
    response = WSGIHandler().get_response(request)
    if not isinstance(response, HttpResponse):  # webhooks answer TwiML, never a stream
        raise SimulationRefused(502, "The practice's webhook answered with a stream.")
    body = response.content.decode("utf-8", "replace")
    if response.status_code != 200:
        # Webhook refusals are short, PHI-free plain text ("Missing CallSid.").
        raise SimulationRefused(502, f"The practice's webhook answered {response.status_code}: "
                                     f"{body[:200]}")
    return body


def wsgi_environ(path: str, body: bytes, signature: str) -> dict[str, Any]:
    """A WSGI environ for a form POST to ``path`` at the public address Twilio would use."""
    site = urlsplit(settings.SITE_URL)
    route, _, query = path.partition("?")
    secure = site.scheme == "https"
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
        "SERVER_NAME": site.hostname or "localhost",
        "SERVER_PORT": str(site.port or (443 if secure else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": site.netloc, "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_TWILIO_SIGNATURE": signature, "HTTP_USER_AGENT": "clinicline phone simulator",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.url_scheme": site.scheme or "http", "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def webhook_path(url: str) -> str:
    """The local path of a URL from a practice's answer; the simulator calls only our own
    Twilio webhooks, never another server or another page of this one."""
    site = settings.SITE_URL.rstrip("/")
    absolute = urljoin(site + "/", url)
    if not absolute.startswith(site + "/"):
        raise SimulationRefused(502, "The practice's answer sends the call to another server.")
    path = absolute[len(site):]
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        match = None
    if match is None or match.namespace != "gateways":
        raise SimulationRefused(502, "The practice's answer sends the call to a page that is "
                                     "not a Twilio webhook.")
    return path


def next_path(document: str, url: str) -> str:
    """Where a URL in the answer from ``document`` points, checked by ``webhook_path``."""
    return webhook_path(urljoin(document, url))
