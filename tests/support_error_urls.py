"""The real URL configuration and its error handlers, plus views that fail on purpose (for
tests/test_error_pages.py). Each failure carries a secret the page must not repeat."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from clinicline import urls

SECRET = "Okafor-1958-secret-detail"
FAILURES: dict[str, type[Exception]] = {
    "400": SuspiciousOperation, "403": PermissionDenied, "404": Http404, "500": DatabaseError,
}


def fail(request: HttpRequest, status: str) -> HttpResponse:
    raise FAILURES[status](f"{SECRET} in {request.path}")


urlpatterns = [path("fails/<str:status>/patient-Okafor/", fail), *urls.urlpatterns]
handler400, handler403 = urls.handler400, urls.handler403
handler404, handler500 = urls.handler404, urls.handler500
