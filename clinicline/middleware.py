from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    """Headers Django 5.2 does not set itself: CSP, permissions policy, no caching of PHI."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy",
                                    "camera=(), microphone=(), geolocation=()")
        if not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            # Pages may show PHI: never keep them in a shared or browser cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
