from typing import Any

from django.http import HttpRequest


def session_limits(request: HttpRequest) -> dict[str, Any]:
    """The idle limit, for the page's own timer that returns an idle screen to the login."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"idle_seconds": request.session.get("idle_s")}
