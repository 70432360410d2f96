import sys
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader

from clinicline import outage
from clinicline.accounts.access import AuthenticatedRequest


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("practice").order_by("practice__name")
    if len(memberships) == 1:
        return redirect("practices:home", practice=memberships[0].practice.slug)
    return render(request, "home.html", {"memberships": memberships})


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: answers without a session and touches no PHI. The database
    unreachable is 503 ("down, try another"), not 500 ("broken")."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except outage.UNREACHABLE as exc:
        outage.reported(exc, "/healthz")
        return outage.retry_later(JsonResponse({"status": "unavailable"}, status=503))
    return JsonResponse({"status": "ok"})


def error_page(status: int) -> Callable[..., HttpResponse]:
    """A handler for ``status``: the styled page and nothing else. Rendered without the
    request, so no context processor runs (no session, no user, no database: a 500 must
    render while the database is down) and nothing of the request or the exception shows."""
    template = f"{status}.html"

    def handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        return HttpResponse(loader.get_template(template).render(), status=status)

    handler.__name__ = f"error_{status}"
    return handler


bad_request = error_page(400)
permission_denied = error_page(403)
page_not_found = error_page(404)
unavailable = error_page(503)
broken = error_page(500)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page; but the database unreachable before any view ran (a middleware
    reading the session) is the 503 page, as it is inside a view
    (``outage.DatabaseUnavailableMiddleware``). Django calls this inside its ``except``."""
    failure = sys.exc_info()[1]
    if isinstance(failure, outage.UNREACHABLE):
        outage.reported(failure, "a page")
        return outage.page()
    return broken(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without its token (an old tab, a blocked cookie): the styled 403, which
    names no reason (Django's own page would show its diagnostics)."""
    return permission_denied(request)
