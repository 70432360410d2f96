import base64
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.middleware import is_verified
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts import mfa, staff
from clinicline.accounts.access import (
    AuthenticatedRequest,
    PracticeRequest,
    member_view,
    reauth_required,
)
from clinicline.accounts.forms import AddMemberForm, CodeForm, LoginForm, ReauthForm, RoleForm
from clinicline.accounts.middleware import start_session
from clinicline.accounts.models import Membership
from clinicline.accounts.roles import Perm
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.oncall.contacts import with_verified_phone
from clinicline.outbox.models import Channel
from clinicline.outbox.service import enqueue


def _next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Only a finished login (password and code) skips this page. A half-open one, left
        # at the code on a shared front-desk browser, gives way to whoever logs in next.
        if request.user.is_authenticated and is_verified(request.user):
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "expired": "expired" in self.request.GET}

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        half_open = self.request.user
        if half_open.is_authenticated and half_open.pk != form.get_user().pk:
            # login() flushes another user's session; the trail says whose ended, and why.
            record(Action.LOGOUT, request=self.request, actor=half_open,
                   reason="replaced by another user's login before MFA")
        response = super().form_valid(form)
        start_session(self.request)
        return response


class LogoutView(auth_views.LogoutView):
    next_page = "accounts:login"


def _complete(request: HttpRequest, device: Device) -> None:
    """Past MFA: a new session id, as at the password step, so an id seen before the code
    (on a shared screen, in a proxy log) never becomes a verified session."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session["reauth_at"] = timezone.now().timestamp()


def _verified(request: HttpRequest, device: Device) -> None:
    _complete(request, device)
    action = Action.RECOVERY_USED if isinstance(device, StaticDevice) else Action.MFA_VERIFIED
    record(action, request=request)


def _too_soon(request: AuthenticatedRequest, form: CodeForm, exc: mfa.TooSoon, reason: str) -> None:
    record(Action.MFA_FAILED, request=request, outcome=Outcome.FAILURE,
           reason=f"{reason}throttled for {exc.wait_s} s")
    form.add_error("code", exc.message)


@login_required
def mfa_verify(request: AuthenticatedRequest) -> HttpResponse:
    if is_verified(request.user):
        return redirect(_next(request))
    if mfa.confirmed_totp(request.user) is None:
        return redirect("accounts:mfa_enrol")
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            device = mfa.verify_code(request.user, form.cleaned_data["code"])
        except mfa.TooSoon as exc:
            _too_soon(request, form, exc, "")
        else:
            if device is not None:
                _verified(request, device)
                return redirect(_next(request))
            record(Action.MFA_FAILED, request=request, outcome=Outcome.FAILURE)
            form.add_error("code", "That code is not right, or it has expired. Try the next one.")
    return render(request, "accounts/mfa_verify.html", {"form": form}, status=400 if
                  form.errors else 200)


@login_required
def mfa_enrol(request: AuthenticatedRequest) -> HttpResponse:
    if mfa.confirmed_totp(request.user) is not None:
        return redirect("accounts:mfa_verify")
    device = mfa.pending_totp(request.user)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            matches = mfa.verify_enrolment(device, form.cleaned_data["code"])
        except mfa.TooSoon as exc:
            _too_soon(request, form, exc, "enrolment ")
        else:
            if matches:
                return _enrolled(request, device)
            record(Action.MFA_FAILED, request=request, outcome=Outcome.FAILURE,
                   reason="enrolment")
            form.add_error("code", "That code does not match. Check the time on your phone "
                                   "and enter the code the app shows now.")
    return render(request, "accounts/mfa_enrol.html", {
        "form": form, "qr": mfa.qr_data_uri(device), "secret": _b32(device.bin_key),
    }, status=400 if form.errors else 200)


def _enrolled(request: AuthenticatedRequest, device: TOTPDevice) -> HttpResponse:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = mfa.new_recovery_codes(request.user)
    _complete(request, device)
    record(Action.MFA_ENROL, request=request)
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


def _b32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


@login_required
@reauth_required
def recovery_codes(request: AuthenticatedRequest) -> HttpResponse:
    """New recovery codes replace the old ones."""
    if request.method != "POST":
        return render(request, "accounts/recovery_confirm.html")
    codes = mfa.new_recovery_codes(request.user)
    record(Action.MFA_ENROL, request=request, reason="recovery codes replaced")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
def reauth(request: AuthenticatedRequest) -> HttpResponse:
    form = ReauthForm(request.POST or None)
    if form.is_valid():
        user = authenticate(request, username=request.user.get_username(),
                            password=form.cleaned_data["password"])
        try:
            device = mfa.verify_code(request.user, form.cleaned_data["code"]) if user else None
        except mfa.TooSoon as exc:
            record(Action.REAUTH_FAILED, request=request, outcome=Outcome.FAILURE,
                   reason=f"throttled for {exc.wait_s} s")
            messages.error(request, exc.message)
        else:
            if device is not None:
                request.session["reauth_at"] = timezone.now().timestamp()
                record(Action.REAUTH, request=request)
                return redirect(_next(request))
            record(Action.REAUTH_FAILED, request=request, outcome=Outcome.FAILURE)
            messages.error(request, "Password or code not accepted.")
    return render(request, "accounts/reauth.html", {"form": form, "next": _next(request, "")},
                  status=400 if request.method == "POST" else 200)


@login_required
def keepalive(request: HttpRequest) -> HttpResponse:
    """The page's activity ping: reaching here already refreshed the idle timer."""
    return HttpResponse(status=204)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """A new member's one-time link (``staff.invite_link``) to choose a first password."""

    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("accounts:login")
    token_generator = staff.invite_tokens

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Password set. Sign in, then set up your "
                                       "authenticator app.")
        return response


# The practice admin's staff pages. They live in this module, the accounts app's edge (an
# import-linter exemption for modules named ``views``), because the list shows whether a
# member can be paged, which only the oncall app (a layer above accounts) knows.

def _member(request: PracticeRequest, user_id: int) -> Membership:
    try:
        return staff.membership(request.practice, user_id)
    except LookupError:
        raise Http404("No such member.") from None


def _to_member(request: PracticeRequest, user_id: int) -> HttpResponse:
    return redirect("staff:member", practice=request.practice.slug, user_id=user_id)


def _audit(request: PracticeRequest, action: Action, member: Membership, *,
           fields: list[str] | None = None, reason: str = "",
           outcome: Outcome = Outcome.SUCCESS) -> None:
    record(action, request=request, practice=request.practice, obj=member.user,
           fields=fields or [], reason=reason, outcome=outcome)


@member_view(Perm.MANAGE_PRACTICE)
def staff_list(request: PracticeRequest) -> HttpResponse:
    rows = staff.members(request.practice)
    pageable = with_verified_phone(row.membership.user_id for row in rows)
    return render(request, "accounts/staff.html", {
        "rows": [(row, row.membership.user_id in pageable) for row in rows]})


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def staff_member(request: PracticeRequest, user_id: int) -> HttpResponse:
    return _member_page(request, _member(request, user_id))


def _member_page(request: PracticeRequest, member: Membership, *, problem: str = "",
                 role_form: RoleForm | None = None, status: int = 200) -> HttpResponse:
    row = next(r for r in staff.members(request.practice) if r.membership.pk == member.pk)
    return render(request, "accounts/staff_member.html", {
        "row": row, "member": member, "is_me": member.user_id == request.user.pk,
        "pageable": bool(with_verified_phone([member.user_id])), "problem": problem,
        "role_form": role_form or RoleForm(initial={"role": member.role}),
    }, status=status)


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def staff_add(request: PracticeRequest) -> HttpResponse:
    form = AddMemberForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            with transaction.atomic():
                member = staff.add_member(request.practice, **form.cleaned_data)
                link = staff.invite_link(member.user, settings.SITE_URL)
                enqueue(request.practice, channel=Channel.EMAIL, to=member.user.email,
                        body=staff.invitation_text(request.practice, link),
                        purpose=staff.INVITE_PURPOSE,
                        idempotency_key=f"staff-invite:{member.user_id}")
                _audit(request, Action.STAFF_ADD, member, fields=["role"], reason=member.role)
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{member.user.get_username()} is added as "
                             f"{member.get_role_display()}. An invitation to set a password "
                             "is on its way to their email.")
            return _to_member(request, member.user_id)
    return render(request, "accounts/staff_add.html", {"form": form},
                  status=400 if form.errors else 200)


def _act(request: PracticeRequest, user_id: int, action: Action,
         change: Callable[[Membership], str]) -> HttpResponse:
    """Run one of the member page's actions: audited with it, refused with a 400."""
    member = _member(request, user_id)
    if request.method != "POST":
        return _to_member(request, user_id)
    try:
        with transaction.atomic():
            done = change(member)
            _audit(request, action, member, reason=done)
    except staff.StaffError as exc:
        _audit(request, action, member, reason=str(exc)[:60], outcome=Outcome.DENIED)
        return _member_page(request, member, problem=str(exc), status=400)
    messages.success(request, done)
    return redirect("staff:list", practice=request.practice.slug) \
        if action == Action.STAFF_DEACTIVATE else _to_member(request, user_id)


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def staff_role(request: PracticeRequest, user_id: int) -> HttpResponse:
    form = RoleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not form.is_valid():
        return _member_page(request, _member(request, user_id), role_form=form, status=400)

    def change(member: Membership) -> str:
        old = member.get_role_display()
        staff.change_role(request.practice, member, form.cleaned_data["role"])
        return f"Role changed from {old} to {member.get_role_display()}."
    return _act(request, user_id, Action.STAFF_ROLE, change)


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def staff_deactivate(request: PracticeRequest, user_id: int) -> HttpResponse:
    def change(member: Membership) -> str:
        name = member.user.get_username()
        if staff.deactivate(request.practice, member):
            return f"{name} is deactivated: they cannot sign in, and their sessions ended."
        return (f"{name} is removed from {request.practice.name}. Their account stays open "
                "for the other practices they work for.")
    return _act(request, user_id, Action.STAFF_DEACTIVATE, change)


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def staff_reset_mfa(request: PracticeRequest, user_id: int) -> HttpResponse:
    def change(member: Membership) -> str:
        staff.reset_mfa(member.user)
        return (f"MFA reset: {member.user.get_username()} sets up an authenticator app "
                "again at their next sign-in. Their sessions ended.")
    return _act(request, user_id, Action.STAFF_MFA_RESET, change)


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def staff_sign_out(request: PracticeRequest, user_id: int) -> HttpResponse:
    def change(member: Membership) -> str:
        staff.end_sessions(member.user)
        return f"{member.user.get_username()} is signed out on every device."
    return _act(request, user_id, Action.STAFF_SIGN_OUT, change)
