"""Audit events for what Django and django-axes do on our behalf.

These are the only signal receivers in the project: the login machinery belongs to
Django and axes, so their signals are the one place to observe it.
"""

import hashlib
import hmac

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record


def hashed_username(request, credentials: dict | None = None) -> str:  # noqa: ANN001
    """How django-axes records a login attempt's username: keyed, so its tables never hold
    a password typed into the wrong box, yet one account's failures still add up."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"axes:" + typed.encode(), hashlib.sha256).hexdigest()[:40]


def _user_named(username: str | None):  # noqa: ANN202
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:  # noqa: ANN001
    record(Action.LOGIN, request=request, actor=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:  # noqa: ANN001
    if user is not None and not getattr(request, "session_timed_out", False):
        record(Action.LOGOUT, request=request, actor=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:  # noqa: ANN001
    # The attempted username is not stored: people type passwords into that box.
    record(Action.LOGIN_FAILED, request=request, actor=_user_named(credentials.get("username")),
           outcome=Outcome.FAILURE)


@receiver(user_locked_out)
def audit_lockout(sender, request, username=None, ip_address=None, **kwargs) -> None:  # noqa: ANN001
    # ``username`` is axes' keyed hash (hashed_username); the account is named by the form.
    typed = request.POST.get("username") if request is not None else None
    record(Action.LOCKOUT, request=request, actor=_user_named(typed), outcome=Outcome.DENIED)
