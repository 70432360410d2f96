"""The WSGI application sends Twilio's webhooks through a handler of their own, with only
the middleware every response needs, and everything else through the site's whole stack.
Driven through ``clinicline.wsgi.application`` itself, as gunicorn calls it."""

from __future__ import annotations

import io
import sys
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import override_settings

from clinicline.audit.models import Action, AuditEvent
from clinicline.gateways.models import InboundWebhook
from clinicline.intake.models import InboundText
from clinicline.wsgi import application
from tests.gateways.test_webhooks import SITE, SMS, make_gateway, sign, text

pytestmark = pytest.mark.django_db(transaction=True)


def environ(path: str, body: bytes = b"", signature: str = "", method: str = "POST") -> dict:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "clinic.example.org", "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "clinic.example.org",
            "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "HTTP_X_TWILIO_SIGNATURE": signature,
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https", "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False}


def served(env: dict) -> tuple[str, dict[str, str], bytes]:
    answer: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, headers

    body = b"".join(application(env, start_response))
    return answer["status"], dict(answer["headers"]), body


def test_a_webhook_takes_the_short_stack_and_the_site_the_whole_one(practice):
    make_gateway(practice)
    params = text("Can I move my appointment?")
    with override_settings(SITE_URL=SITE, ALLOWED_HOSTS=["clinic.example.org"]):
        status, headers, body = served(environ(SMS, urlencode(params).encode(),
                                               sign(SITE + SMS, params)))
        assert status.startswith("200") and b"<Response>" in body
        assert "Set-Cookie" not in headers  # no session, no CSRF cookie
        assert headers["X-Content-Type-Options"] == "nosniff"  # security headers still
        assert InboundText.objects.count() == 1 and InboundWebhook.objects.count() == 1

        status, headers, body = served(environ("/accounts/login/", method="GET"))
        assert status.startswith("200") and "csrftoken" in headers.get("Set-Cookie", "")
    def view_middleware(handler) -> set[str]:
        return {type(m.__self__).__name__ for m in handler._view_middleware}

    assert "CsrfViewMiddleware" in view_middleware(application.site)
    assert "CsrfViewMiddleware" not in view_middleware(application.webhooks)
    assert settings.MIDDLEWARE != settings.WEBHOOK_MIDDLEWARE  # the swap was undone


def test_a_forged_webhook_is_refused_and_audited_without_a_user(practice):
    make_gateway(practice)
    params = text("hello")
    with override_settings(SITE_URL=SITE, ALLOWED_HOSTS=["clinic.example.org"]):
        status, _, _ = served(environ(SMS, urlencode(params).encode(), "forged"))
    assert status.startswith("403")
    forged = AuditEvent.objects.get(action=Action.WEBHOOK_FORGED)
    assert forged.actor_id is None and forged.practice_id == practice.pk
    assert not InboundText.objects.exists()
