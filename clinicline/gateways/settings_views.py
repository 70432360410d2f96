"""The practice admin's view of the telephony gateway: the practice's own Twilio account,
and the switch between test mode (the phone simulator) and live.

Both pages ask for the password and code again: the account's credentials decide where
patients' numbers are sent, and going live hands them to a vendor, which the practice may
do only under a current Business Associate Agreement with it.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinicline.accounts.access import PracticeRequest, member_view, reauth_required
from clinicline.accounts.roles import Perm
from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.gateways import numbers
from clinicline.gateways.forms import GatewayAccountForm, ModeForm
from clinicline.gateways.transports.twilio import VENDOR
from clinicline.practices import voice_fallback
from clinicline.practices.models import GatewayAccount, Practice, current_baa

NO_BAA = ("Twilio cannot carry this practice's texts and calls until a current Business "
          "Associate Agreement with Twilio is on record. Record the signed agreement under "
          "Business associate agreements, then switch again.")


def account_of(practice: Practice) -> GatewayAccount | None:
    return GatewayAccount.objects.for_practice(practice).first()


def posted(request: PracticeRequest) -> dict | None:
    """The submitted data, or None for a GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def gateway_settings(request: PracticeRequest) -> HttpResponse:
    account = account_of(request.practice)
    form = GatewayAccountForm(posted(request), instance=account)
    if form.is_valid():
        changed = form.changed_fields()
        try:
            with transaction.atomic():
                saved = form.save_for(request.practice)
                if changed:  # which fields, never their values: the token least of all
                    record(Action.GATEWAY_CHANGE, request=request, practice=request.practice,
                           obj=saved, fields=changed, reason="created" if form.is_new else "")
                    voice_fallback.write_after_commit()  # a new number answers in an outage
        except IntegrityError:  # the same number, saved by another practice just now
            form.add_error("phone_number", GatewayAccountForm.Meta.error_messages[
                "phone_number"]["unique"])
        else:
            messages.success(request, "Gateway saved." if changed else "Nothing changed.")
            return redirect("gateway_settings:settings", practice=request.practice.slug)
    return render(request, "gateways/settings.html", {
        "form": form, "account": account, "baa": current_baa(request.practice, VENDOR),
    }, status=400 if form.errors else 200)


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def gateway_mode(request: PracticeRequest) -> HttpResponse:
    account = account_of(request.practice)
    if account is None:
        messages.error(request, "Set up the practice's Twilio account first.")
        return redirect("gateway_settings:settings", practice=request.practice.slug)
    baa = current_baa(request.practice, VENDOR)
    form = ModeForm(posted(request), initial={"mode": "test" if account.test_mode else "live"})
    if form.is_valid():
        test_mode = form.cleaned_data["mode"] == "test"
        going_live = account.test_mode and not test_mode
        if not test_mode and baa is None:
            form.add_error(None, NO_BAA)
            record(Action.GATEWAY_CHANGE, request=request, practice=request.practice,
                   obj=account, fields=["test_mode"], reason="going live refused: no current "
                   "BAA with Twilio", outcome=Outcome.DENIED)
        elif going_live and (problem := point_number(request, account)):
            form.add_error(None, f"{problem} The practice stays in test mode.")
            record(Action.GATEWAY_CHANGE, request=request, practice=request.practice,
                   obj=account, fields=["test_mode"], reason="going live refused: the "
                   "number's webhooks could not be set at Twilio", outcome=Outcome.DENIED)
        else:
            switch(request, account, test_mode)
            return redirect("gateway_settings:settings", practice=request.practice.slug)
    return render(request, "gateways/settings_mode.html", {
        "form": form, "account": account, "baa": baa,
    }, status=400 if form.errors else 200)


def switch(request: PracticeRequest, account: GatewayAccount, test_mode: bool) -> None:
    if account.test_mode == test_mode:
        messages.info(request, "The gateway was already in that mode.")
        return
    with transaction.atomic():
        GatewayAccount.objects.filter(pk=account.pk).update(test_mode=test_mode)
        record(Action.GATEWAY_CHANGE, request=request, practice=request.practice, obj=account,
               fields=["test_mode"], reason="test mode" if test_mode else "live")
    messages.success(request, "Test mode is on: messages go to the phone simulator."
                     if test_mode else "Live: messages now go out through Twilio.")


def point_number(request: PracticeRequest, account: GatewayAccount) -> str:
    """Set the number's webhooks at Twilio (audited once done); "" when done, else why not."""
    try:
        numbers.configure(account)
    except numbers.NumberError as exc:
        return str(exc)
    record(Action.GATEWAY_CHANGE, request=request, practice=request.practice, obj=account,
           fields=["twilio_webhooks"], reason="voice and messaging webhooks set at Twilio")
    return ""


@member_view(Perm.MANAGE_PRACTICE)
@reauth_required
def gateway_numbers(request: PracticeRequest) -> HttpResponse:
    """What Twilio holds for the number against what it should: read on request (a POST,
    as it calls the vendor), and set again when the admin asks."""
    account = account_of(request.practice)
    if request.method != "POST" or account is None or account.test_mode:
        return redirect("gateway_settings:settings", practice=request.practice.slug)
    problem = point_number(request, account) if "configure" in request.POST else ""
    check = None
    if not problem:
        try:
            check = numbers.check(account)
        except numbers.NumberError as exc:
            problem = str(exc)
    return render(request, "gateways/settings.html", {
        "form": GatewayAccountForm(instance=account), "account": account,
        "baa": current_baa(request.practice, VENDOR), "check": check, "problem": problem,
    }, status=502 if problem else 200)
