"""Audit events for what Django and django-axes do on our behalf.

These are the only signal receivers in the project: the login machinery belongs to
Django and axes, so their signals are the one place to observe it.
"""

import hashlib
import hmac
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from clinicline.accounts.middleware import TIMED_OUT
from clinicline.accounts.models import User
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record


def hashed_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """How django-axes records a login attempt's username: keyed, so its tables never hold
    a password typed into the wrong box, yet one account's failures still add up."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"axes:" + typed.encode(), hashlib.sha256).hexdigest()[:40]


def _user_named(username: str | None) -> User | None:
    if not username:
        return None
    return User.objects.filter(username=username).first()


@receiver(user_logged_in)
def audit_login(sender: type[User], request: HttpRequest, user: User, **kwargs: Any) -> None:
    record(Action.LOGIN, request=request, actor=user)


@receiver(user_logged_out)
def audit_logout(sender: type[User] | None, request: HttpRequest, user: User | None,
                 **kwargs: Any) -> None:
    if user is not None and not getattr(request, TIMED_OUT, False):
        record(Action.LOGOUT, request=request, actor=user)


@receiver(user_login_failed)
def audit_login_failed(sender: str, credentials: dict[str, Any],
                       request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The attempted username is not stored: people type passwords into that box.
    record(Action.LOGIN_FAILED, request=request, actor=_user_named(credentials.get("username")),
           outcome=Outcome.FAILURE)


@receiver(user_locked_out)
def audit_lockout(sender: str, request: HttpRequest | None, username: str | None = None,
                  ip_address: str | None = None, **kwargs: Any) -> None:
    # ``username`` is axes' keyed hash (hashed_username); the account is named by the form.
    typed = request.POST.get("username") if request is not None else None
    record(Action.LOCKOUT, request=request, actor=_user_named(typed), outcome=Outcome.DENIED)
