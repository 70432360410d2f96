"""Session limits and the MFA gate."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp.middleware import is_verified

from clinicline.accounts.models import User
from clinicline.audit.models import Action
from clinicline.audit.service import record

# Requests that a page makes by itself (a live queue refreshing) carry this header; they
# must not keep an unattended session alive.
PASSIVE_HEADER = "HTTP_X_CLINICLINE_PASSIVE"
EPOCH = "epoch"
# Marks a request whose session this middleware ended, so that the logout it causes is not
# audited a second time (its SESSION_TIMEOUT event says it all).
TIMED_OUT = "session_timed_out"


def idle_limit_seconds(user: User) -> int:
    """The strictest idle limit of the member's practices."""
    minutes = [m.practice.idle_timeout_minutes for m in user.memberships.select_related("practice")]
    return 60 * min(minutes or [settings.IDLE_TIMEOUT_MINUTES])


def start_session(request: HttpRequest) -> None:
    assert request.user.is_authenticated, "a session's limits start at login"
    now = timezone.now().timestamp()
    request.session["started_at"] = now
    request.session["last_seen"] = now
    request.session["idle_s"] = idle_limit_seconds(request.user)
    request.session[EPOCH] = request.user.session_epoch


def end_session(request: HttpRequest, action: Action, reason: str) -> None:
    """Log out, audited once (as ``action``, not also as a plain logout)."""
    record(action, request=request, reason=reason)
    setattr(request, TIMED_OUT, True)
    logout(request)


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = timezone.now().timestamp()
            idle = session.get("idle_s", settings.IDLE_TIMEOUT_MINUTES * 60)
            started = session.get("started_at", now)
            last_seen = session.get("last_seen", now)
            if session.get(EPOCH, 0) != request.user.session_epoch:
                end_session(request, Action.SESSION_REVOKED, "signed out everywhere")
                return redirect(f"{reverse('accounts:login')}?expired=1")
            if now - last_seen > idle or now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
                end_session(request, Action.SESSION_TIMEOUT,
                            "idle" if now - last_seen > idle else "absolute lifetime")
                return redirect(f"{reverse('accounts:login')}?expired=1")
            if PASSIVE_HEADER not in request.META:
                session["last_seen"] = now
        return self.get_response(request)


MFA_EXEMPT = ("accounts:login", "accounts:logout", "accounts:mfa_verify", "accounts:mfa_enrol")


class RequireMFAMiddleware:
    """Every role sees PHI, so every signed-in person passes MFA before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt: set[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # django_otp's function, not the user.is_verified() it installs: the same answer, in
        # a name the type checker can see.
        if user.is_authenticated and not is_verified(user):
            if self.exempt is None:
                self.exempt = {reverse(name) for name in MFA_EXEMPT}
            if request.path not in self.exempt and not request.path.startswith(
                    "/" + settings.STATIC_URL.lstrip("/")):
                # Back to where they were going afterwards (a page's link, say): the path
                # only, and only for a GET (a form posted before MFA is not re-sent).
                target = reverse("accounts:mfa_verify")
                if request.method == "GET":
                    target += "?" + urlencode({"next": request.get_full_path()})
                return redirect(target)
        return self.get_response(request)
