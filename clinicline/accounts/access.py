"""Practice scoping and permissions, in one place so no view can forget them.

Every practice page is a ``member_view``: the practice comes from the URL, the member must
belong to it, and anything else is a 404 — the same answer as for an object that does not
exist, so ids from another practice reveal nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeGuard, TypeVar, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Perm, allows
from clinicline.practices.models import Practice

_P = ParamSpec("_P")
_Request = TypeVar("_Request", bound=HttpRequest)
_Response = TypeVar("_Response", bound=HttpResponseBase)
_Response_co = TypeVar("_Response_co", bound=HttpResponseBase, covariant=True)
_Model = TypeVar("_Model", bound=Model)


class AuthenticatedRequest(HttpRequest):
    """The request a ``login_required`` view sees: never an anonymous user."""

    user: User


class PracticeRequest(AuthenticatedRequest):
    """The request a ``member_view`` sees: the practice from the URL, and the member's place
    in it. Only for annotations; at run time it is Django's own request with two attributes
    more."""

    practice: Practice
    membership: Membership


class MemberView(Protocol[_Response_co]):
    """A practice page as the URL resolver calls it, the practice still a slug."""

    member_view: bool  # the tenancy matrix test looks for this
    member_perm: Perm | None  # what the page asks of a member's role (the navigation bar)

    def __call__(self, request: HttpRequest, practice: str, **kwargs: Any) -> _Response_co: ...


class MemberViewDecorator(Protocol):
    """Turns a practice page as written (the request first, then the URL's other parts by
    name) into a MemberView answering as the page does."""

    def __call__(self, view: Callable[Concatenate[PracticeRequest, ...], _Response],
                 /) -> MemberView[_Response]: ...


def is_member_view(view: Callable[..., Any]) -> TypeGuard[MemberView[HttpResponseBase]]:
    """Whether ``view`` (as the URL resolver has it) is a ``member_view`` page."""
    return getattr(view, "member_view", False) is True


def member_view(perm: Perm | None = None) -> MemberViewDecorator:
    """Resolve ``practice`` (a slug in the URL) to the member's practice, or 404."""

    def decorate(
            view: Callable[Concatenate[PracticeRequest, ...], _Response],
    ) -> MemberView[_Response]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, practice: str, **kwargs: Any) -> _Response:
            # login_required, wrapped around this, has turned anonymous visitors away; the
            # two attributes are set below, before the view sees the request.
            request = cast(PracticeRequest, request)
            membership = (Membership.objects.select_related("practice")
                          .filter(user=request.user, practice__slug=practice).first())
            if membership is None or (perm is not None and not allows(membership.role, perm)):
                raise Http404("No such page.")
            request.practice = membership.practice
            request.membership = membership
            return view(request, **kwargs)

        guarded = cast(MemberView[_Response], login_required(wrapper))
        guarded.member_view = True
        guarded.member_perm = perm  # the navigation bar offers the page by the same check
        return guarded

    return decorate


def scoped_or_404(queryset: QuerySet[_Model], practice: Practice, **lookup: Any) -> _Model:
    return get_object_or_404(queryset.filter(practice=practice), **lookup)


def recently_authenticated(request: HttpRequest) -> bool:
    at = request.session.get("reauth_at")
    return at is not None and timezone.now().timestamp() - at < settings.REAUTH_MINUTES * 60


def reauth_required(
        view: Callable[Concatenate[_Request, _P], _Response],
) -> Callable[Concatenate[_Request, _P], _Response | HttpResponseRedirect]:
    """Sensitive actions (exports, break-glass) ask for password and code again."""

    @functools.wraps(view)
    def wrapper(request: _Request, /, *args: _P.args,
                **kwargs: _P.kwargs) -> _Response | HttpResponseRedirect:
        if recently_authenticated(request):
            return view(request, *args, **kwargs)
        target = request.get_full_path()
        if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            target = "/"
        return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': target})}")

    return wrapper
