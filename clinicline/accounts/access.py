"""Practice scoping and permissions, in one place so no view can forget them.

Every practice page is a ``member_view``: the practice comes from the URL, the member must
belong to it, and anything else is a 404 — the same answer as for an object that does not
exist, so ids from another practice reveal nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm, allows
from clinicline.practices.models import Practice

View = Callable[..., HttpResponse]


def member_view(perm: Perm | None = None) -> Callable[[View], View]:
    """Resolve ``practice`` (a slug in the URL) to the member's practice, or 404."""

    def decorate(view: View) -> View:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, practice: str, **kwargs: Any) -> HttpResponse:
            membership = (Membership.objects.select_related("practice")
                          .filter(user=request.user, practice__slug=practice).first())
            if membership is None or (perm is not None and not allows(membership.role, perm)):
                raise Http404("No such page.")
            request.practice = membership.practice
            request.membership = membership
            return view(request, **kwargs)

        wrapper.member_view = True  # the tenancy matrix test looks for this
        wrapper.member_perm = perm  # the navigation bar offers the page by the same check
        return wrapper

    return decorate


def scoped_or_404(queryset: QuerySet, practice: Practice, **lookup: Any) -> Model:
    return get_object_or_404(queryset.filter(practice=practice), **lookup)


def recently_authenticated(request: HttpRequest) -> bool:
    at = request.session.get("reauth_at")
    return at is not None and timezone.now().timestamp() - at < settings.REAUTH_MINUTES * 60


def reauth_required(view: View) -> View:
    """Sensitive actions (exports, break-glass) ask for password and code again."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if recently_authenticated(request):
            return view(request, *args, **kwargs)
        target = request.get_full_path()
        if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            target = "/"
        return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': target})}")

    return wrapper
