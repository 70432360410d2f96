"""The phone simulator's pages: a browser tab acts as a patient's or a provider's phone.

It lists the practice's virtual phones, shows what each received (texts, calls and what was
said) and lets a member text or call the practice, press keys and leave a voicemail — all
through the same signed webhooks Twilio would post (``calls``, over ``carrier``). Pages name
a phone by an opaque token, never by its number: no PHI in a URL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from clinicline.accounts.access import AuthenticatedRequest, PracticeRequest, member_view
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.practices.models import GatewayAccount
from clinicline.simulator import calls, history
from clinicline.simulator.carrier import SimulationRefused
from clinicline.simulator.forms import KeysForm, OpenForm, TextForm, VoicemailForm, valid
from clinicline.simulator.history import LiveCall
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.phones import (
    Phone,
    SimulatorOff,
    find_phone,
    open_phone,
    other_phones,
    patient_phones,
    sees_clinical_phones,
    sees_staff_phones,
    simulator_account,
    staff_phones,
    unique,
)
from clinicline.simulator.twiml import Answer

KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]
HISTORY = 100
NO_NUMBER = ("This practice has no test-mode gateway number, so there is nothing to call or "
             "text. Texts and calls the practice sends still arrive here.")


@dataclass
class Entry:
    event: SimulatorEvent
    answer: Answer | None


View = Callable[..., HttpResponse]


def off_in_production(view: View) -> View:
    """In production every simulator URL is a 404, whoever asks, signed in or not: a server
    with real patients has no virtual phones, and signs no webhook for anyone."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if settings.PRODUCTION:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def simulator_view(view: View) -> View:
    """A page of a practice's simulator: its members only, never in production."""
    return off_in_production(member_view()(view))


# --- pages -----------------------------------------------------------------------------------

@off_in_production
@login_required
def simulator_home(request: AuthenticatedRequest) -> HttpResponse:
    """/simulator: the signed-in member's first practice's phones."""
    membership = (request.user.memberships.select_related("practice")
                  .order_by("practice__name").first())
    if membership is None:
        raise Http404("No practice.")
    return redirect("simulator:phones", practice=membership.practice.slug)


def off_page(request: PracticeRequest, off: SimulatorOff) -> HttpResponse:
    return render(request, "simulator/off.html", {"reason": str(off)}, status=403)


@simulator_view
def phones(request: PracticeRequest) -> HttpResponse:
    try:
        account = simulator_account(request.practice)
    except SimulatorOff as off:
        return off_page(request, off)
    return list_page(request, account, OpenForm(practice_number=number_of(account)))


def list_page(request: PracticeRequest, account: GatewayAccount | None, form: OpenForm,
              status: int = 200) -> HttpResponse:
    """The phones this member may see (``phones``' table), and nothing of the others."""
    membership = request.membership
    patients = unique(patient_phones(membership))
    for phone in patients:
        audit_view(request, phone)
    return render(request, "simulator/phones.html", {
        "account": account, "form": form, "patient_phones": patients,
        "staff_phones": unique(staff_phones(membership)),
        "other_phones": other_phones(membership),
        "sees_clinical": sees_clinical_phones(membership),
        "sees_staff": sees_staff_phones(membership)}, status=status)


@simulator_view
def open_number(request: PracticeRequest) -> HttpResponse:
    """Opening a number is a POST, so what was typed never lands in a URL."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        account = simulator_account(request.practice)
    except SimulatorOff as off:
        return off_page(request, off)
    form = OpenForm(request.POST, practice_number=number_of(account))
    if not form.is_valid():
        return list_page(request, account, form, status=400)
    opened = open_phone(request.membership, form.cleaned_data["number"])
    if opened is None:
        raise Http404("No such phone.")
    return back(request, opened)


@simulator_view
def phone(request: PracticeRequest, phone: str) -> HttpResponse:
    found = phone_or_404(request, phone)
    try:
        account = simulator_account(request.practice)
    except SimulatorOff as off:
        return off_page(request, off)
    return phone_page(request, found, account)


def phone_page(request: PracticeRequest, phone: Phone, account: GatewayAccount | None,
               status: int = 200, error: str = "") -> HttpResponse:
    entries = [Entry(e, history.answer_of(e) if e.kind == history.SAY else None)
               for e in history.events(request.practice, phone.token, HISTORY)]
    audit_view(request, phone, "simulator_events")
    return render(request, "simulator/phone.html", {
        "phone": phone, "account": account, "entries": entries, "error": error,
        "call": history.current_call(request.practice, phone.token), "keypad": KEYPAD,
        "ringing": history.ringing(request.practice, phone.token),
        "text_form": TextForm(), "keys_form": KeysForm(), "voicemail_form": VoicemailForm()},
        status=status)


def phone_or_404(request: PracticeRequest, token: str) -> Phone:
    found = find_phone(request.membership, token)
    if found is None:
        raise Http404("No such phone.")
    return found


def number_of(account: GatewayAccount | None) -> str:
    return account.phone_number if account is not None else ""


def audit_view(request: PracticeRequest, phone: Phone, *extra: str) -> None:
    """A patient's number and name on screen are a touch of their PHI."""
    if phone.contact is None:
        return
    record(Action.VIEW, request=request, practice=request.practice, obj=phone.contact,
           patient=phone.patient, fields=["value", "given_name", "family_name", *extra])


# --- what a phone does -----------------------------------------------------------------------

PhoneAction = Callable[[PracticeRequest, Phone, GatewayAccount], HttpResponse]


def phone_action(view: PhoneAction) -> Callable[..., HttpResponse]:
    """A POST from a virtual phone of this practice (else 404), through its test-mode
    account; a refusal shows the phone's page again with the reason and its status."""

    @functools.wraps(view)
    def wrapper(request: PracticeRequest, phone: str) -> HttpResponse:
        found = phone_or_404(request, phone)  # first: a foreign token is a 404 for any method
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            account = simulator_account(request.practice)
        except SimulatorOff as off:
            return off_page(request, off)
        if account is None:
            return phone_page(request, found, None, status=409, error=NO_NUMBER)
        try:
            return view(request, found, account)
        except SimulationRefused as refusal:
            return phone_page(request, found, account, status=refusal.status,
                              error=str(refusal))

    return simulator_view(wrapper)


def back(request: PracticeRequest, phone: Phone) -> HttpResponse:
    return redirect("simulator:phone", practice=request.practice.slug, phone=phone.token)


def live_call(request: PracticeRequest, phone: Phone) -> LiveCall:
    call = history.current_call(request.practice, phone.token)
    if call is None:
        raise SimulationRefused(409, "This phone is not on a call with the practice. Call the "
                                     "practice first.")
    return call


@phone_action
def send_text(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    body = valid(TextForm(request.POST)).cleaned_data["body"]
    replies = calls.text_practice(account, phone.number, body)
    messages.success(request, "Text sent to the practice." + (" It replied." if replies else ""))
    return back(request, phone)


@phone_action
def call(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    calls.call_practice(account, phone.number)
    messages.success(request, "You called the practice and it answered.")
    return back(request, phone)


def ringing_call(request: PracticeRequest, phone: Phone) -> history.Ringing:
    ring = history.ringing(request.practice, phone.token)
    if ring is None:
        raise SimulationRefused(409, "Nothing is ringing on this phone.")
    return ring


@phone_action
def answer(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    calls.answer_call(account, phone.number, ringing_call(request, phone), human=True)
    messages.success(request, "You answered the practice's call.")
    return back(request, phone)


@phone_action
def machine_answers(request: PracticeRequest, phone: Phone,
                    account: GatewayAccount) -> HttpResponse:
    calls.answer_call(account, phone.number, ringing_call(request, phone), human=False)
    messages.info(request, "The answering machine took the practice's call.")
    return back(request, phone)


@phone_action
def press_keys(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    keys = valid(KeysForm(request.POST)).cleaned_data["keys"]
    calls.press_keys(account, phone.number, live_call(request, phone), keys)
    messages.success(request, f"You pressed {keys}.")
    return back(request, phone)


@phone_action
def voicemail(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    data = valid(VoicemailForm(request.POST)).cleaned_data
    left = calls.leave_voicemail(account, phone.number, live_call(request, phone),
                                 data["words"], hang_up_after=data["hang_up"])
    messages.success(request, f"Voicemail left ({left.duration_s} s of audio).")
    if not left.spoken:
        messages.warning(request, "Neither flite nor espeak-ng is installed here (Debian "
                                  "packages flite, espeak-ng), so the voicemail's audio is a "
                                  "second of silence.")
    if left.looped:
        messages.warning(request, "The practice's <Record> has no action URL: a real Twilio "
                                  "call would now fetch the call's answer again and loop. The "
                                  "simulator hung up.")
    return back(request, phone)


@phone_action
def stay_silent(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    """The caller waits without pressing anything, until the menu times out."""
    calls.silence(account, phone.number, live_call(request, phone))
    messages.info(request, "You waited without pressing a key.")
    return back(request, phone)


def forwarded_line(request: PracticeRequest, phone: Phone, account: GatewayAccount,
                   answered: bool, said: str) -> HttpResponse:
    calls.dial_ended(account, phone.number, live_call(request, phone), answered=answered)
    messages.info(request, said)
    return back(request, phone)


@phone_action
def line_answers(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    return forwarded_line(request, phone, account, True,
                          "The line the practice forwarded you to answered; the call ended.")


@phone_action
def line_unanswered(request: PracticeRequest, phone: Phone,
                    account: GatewayAccount) -> HttpResponse:
    return forwarded_line(request, phone, account, False,
                          "Nobody answered the line the practice forwarded you to.")


@phone_action
def hang_up(request: PracticeRequest, phone: Phone, account: GatewayAccount) -> HttpResponse:
    calls.hang_up(account, phone.number, live_call(request, phone))
    messages.info(request, "You hung up.")
    return back(request, phone)
