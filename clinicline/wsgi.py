"""The WSGI application: the site, and Twilio's webhooks through a shorter stack.

A webhook is answered by the same URLconf and views, but through a handler that loads only
``settings.WEBHOOK_MIDDLEWARE`` (security headers and the outage answer): Twilio sends no
cookie and no user, so the session, sign-in, MFA, CSRF, message and lockout middleware
would only cost time inside Twilio's 15-second budget.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from clinicline.worker import collect_less

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinicline.settings")


class WebhookHandler(WSGIHandler):
    """Django's handler with the webhook middleware only."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django reads the list from settings; this runs once, at start-up, before any
        # request (so no other thread can see the swap).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class Application:
    """Webhooks to the webhook handler, everything else to the site's."""

    def __init__(self) -> None:
        django.setup(set_prefix=False)
        self.site, self.webhooks = WSGIHandler(), WebhookHandler()
        self.prefix = settings.WEBHOOK_PATH
        collect_less()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        handler = (self.webhooks if environ.get("PATH_INFO", "").startswith(self.prefix)
                   else self.site)
        return handler(environ, start_response)


application = Application()
