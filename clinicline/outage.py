"""The database being unreachable is an expected state, not an error.

PostgreSQL restarting or failing over, a network partition, SQLite locked past its busy
timeout: the driver raises ``OperationalError`` or ``InterfaceError``. Every request then
gets a 503 with ``Retry-After`` (webhooks a short plain body, pages the styled
"briefly unavailable" page), never a 500, and the log says so once, by exception type only
(a driver's message may quote a query's parameters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

log = logging.getLogger("clinicline.outage")

UNREACHABLE = (OperationalError, InterfaceError)
RETRY_AFTER_S = 5
R = TypeVar("R", bound=HttpResponse)
PLAIN = "clinicline cannot store this right now; please retry."


def reported(exc: BaseException, where: str) -> None:
    log.warning("database unavailable (%s) while answering %s", type(exc).__name__, where)


def retry_later(response: R) -> R:
    response["Retry-After"] = str(RETRY_AFTER_S)
    # Said once, by ``reported``: not again as Django's "Service Unavailable" line.
    response._has_been_logged = True  # type: ignore[attr-defined]  # noqa: SLF001
    return response


def plain() -> HttpResponse:
    """The answer to a machine (a webhook, a probe): 503, retry in a few seconds."""
    return retry_later(HttpResponse(PLAIN, status=503, content_type="text/plain"))


def page() -> HttpResponse:
    """The styled 503 page, rendered without the request: no context processor (session,
    user) may touch the database."""
    return retry_later(HttpResponse(loader.get_template("503.html").render(), status=503))


class DatabaseUnavailableMiddleware:
    """A view that finds the database gone answers the styled 503, not the 500 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNREACHABLE):
            return None
        reported(exception, "a page")
        return page()
