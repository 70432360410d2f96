from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader

from clinicline.accounts.access import AuthenticatedRequest


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("practice").order_by("practice__name")
    if len(memberships) == 1:
        return redirect("practices:home", practice=memberships[0].practice.slug)
    return render(request, "home.html", {"memberships": memberships})


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: answers without a session and touches no PHI."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
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
server_error = error_page(500)
unavailable = error_page(503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without its token (an old tab, a blocked cookie): the styled 403, which
    names no reason (Django's own page would show its diagnostics)."""
    return permission_denied(request)
