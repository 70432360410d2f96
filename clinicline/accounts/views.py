import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.middleware import is_verified
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts import mfa
from clinicline.accounts.access import AuthenticatedRequest, reauth_required
from clinicline.accounts.forms import CodeForm, LoginForm, ReauthForm
from clinicline.accounts.middleware import start_session
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record


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
