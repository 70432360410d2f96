"""A member's own page: how clinicline reaches them, and in what order.

Every member reaches only their own methods and rules: an id of anyone else's is a 404.
Audit rows name the method by id and kind, never its number or address, and never a code.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from clinicline.accounts.access import PracticeRequest, member_view
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.oncall import contacts
from clinicline.oncall.contacts import ContactError, TooManyCodes
from clinicline.oncall.forms import CodeForm, MethodForm, RuleForm, VoicePinForm
from clinicline.oncall.models import ContactMethod, NotificationRule
from clinicline.oncall.models.contacts import delay_label


def page(request: PracticeRequest, *, status: int = 200, problem: tuple[int, str] | None = None,
         **forms: Any) -> HttpResponse:
    """The page, with any form that failed (and its 400) or a method's ``problem``."""
    user = request.user
    pin = contacts.voice_pin(user)
    return render(request, "oncall/contacts.html", {
        "methods": contacts.methods(user),
        "rules": NotificationRule.objects.filter(user=user).select_related("method"),
        "plan": [(delay_label(delay), method) for delay, method in contacts.plan(user)],
        "method_form": forms.get("method_form") or MethodForm(),
        "rule_form": forms.get("rule_form") or RuleForm(user=user),
        "code_form": forms.get("code_form") or CodeForm(),
        "pin": pin, "pin_locked": pin is not None and contacts.pin_locked(pin),
        "pin_form": forms.get("pin_form") or VoicePinForm(),
        "problem": problem,
    }, status=status)


def back(request: PracticeRequest) -> HttpResponse:
    return redirect("oncall:contacts", practice=request.practice.slug)


def own_method(request: PracticeRequest, method_id: int) -> ContactMethod:
    return get_object_or_404(ContactMethod, pk=method_id, user=request.user)


def audit(request: PracticeRequest, action: Action, obj: Any, reason: str,
          outcome: Outcome = Outcome.SUCCESS) -> None:
    record(action, request=request, practice=request.practice, obj=obj, reason=reason,
           outcome=outcome)


@member_view()
def contact_methods(request: PracticeRequest) -> HttpResponse:
    return page(request)


@member_view()
def add_method(request: PracticeRequest) -> HttpResponse:
    if request.method != "POST":
        return back(request)
    form = MethodForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                method = contacts.add(request.user, form.cleaned_data["kind"],
                                      form.cleaned_data["address"])
                audit(request, Action.CONTACT_CHANGE, method, f"added {method.kind}")
        except ContactError as exc:
            form.add_error("address", str(exc))
        else:
            messages.success(request, f"Added. Send yourself a code to verify the "
                                      f"{method.get_kind_display()}.")
            return back(request)
    return page(request, status=400, method_form=form)


@member_view()
def send_code(request: PracticeRequest, method_id: int) -> HttpResponse:
    method = own_method(request, method_id)
    if request.method != "POST":  # a POST-only action: its id checked first (404 if not own)
        return back(request)
    try:
        contacts.send_code(method, request.practice)
    except ContactError as exc:
        audit(request, Action.CONTACT_CHANGE, method, "code refused", Outcome.DENIED)
        return page(request, status=429 if isinstance(exc, TooManyCodes) else 400,
                    problem=(method.pk, str(exc)))
    audit(request, Action.CONTACT_CHANGE, method, "code sent")
    messages.success(request, f"A code is on its way to {method.address}. It expires in "
                              f"{contacts.CODE_LIFETIME.seconds // 60} minutes.")
    return back(request)


@member_view()
def verify_code(request: PracticeRequest, method_id: int) -> HttpResponse:
    method = own_method(request, method_id)
    if request.method != "POST":  # a POST-only action: its id checked first (404 if not own)
        return back(request)
    form = CodeForm(request.POST)
    if not form.is_valid():
        return page(request, status=400, problem=(method.pk, str(form.errors["code"][0])))
    try:
        contacts.verify(method, form.cleaned_data["code"])
    except ContactError as exc:
        audit(request, Action.CONTACT_VERIFY, method, method.kind, Outcome.FAILURE)
        return page(request, status=400, problem=(method.pk, str(exc)))
    audit(request, Action.CONTACT_VERIFY, method, method.kind)  # verified just now
    messages.success(request, f"Verified: clinicline can now reach you at {method.address}.")
    return back(request)


@member_view()
def remove_method(request: PracticeRequest, method_id: int) -> HttpResponse:
    method = own_method(request, method_id)
    if request.method != "POST":  # a POST-only action: its id checked first (404 if not own)
        return back(request)
    try:
        with transaction.atomic():  # audited first: a deleted row has no id to name
            audit(request, Action.CONTACT_CHANGE, method, f"removed {method.kind}")
            contacts.remove(method)
    except ContactError as exc:
        return page(request, status=400, problem=(method.pk, str(exc)))
    messages.success(request, "Removed.")
    return back(request)


@member_view()
def add_rule(request: PracticeRequest) -> HttpResponse:
    if request.method != "POST":
        return back(request)
    form = RuleForm(request.POST, user=request.user)
    if form.is_valid():
        with transaction.atomic():
            rule = contacts.set_rule(request.user, form.cleaned_data["method"],
                                     form.cleaned_data["delay_s"])
            audit(request, Action.NOTIFY_RULES, rule, "rule added")
        return back(request)
    return page(request, status=400, rule_form=form)


@member_view()
def remove_rule(request: PracticeRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=rule_id, user=request.user)
    if request.method != "POST":
        return back(request)
    with transaction.atomic():
        audit(request, Action.NOTIFY_RULES, rule, "rule removed")
        rule.delete()
    return back(request)


@member_view()
def set_voice_pin(request: PracticeRequest) -> HttpResponse:
    """A new voice PIN: hashed, audited (never the digits), and any lock lifted."""
    if request.method != "POST":
        return back(request)
    form = VoicePinForm(request.POST)
    if not form.is_valid():
        return page(request, status=400, pin_form=form)
    had_one = contacts.voice_pin(request.user) is not None
    with transaction.atomic():
        pin = contacts.set_pin(request.user, form.cleaned_data["pin"])
        audit(request, Action.VOICE_PIN_SET, pin, "changed" if had_one else "set")
    messages.success(request, "Your voice PIN is set. A call about a page asks for it "
                              "before it says anything about the message.")
    return back(request)
