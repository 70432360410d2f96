"""The agent console: taking a call for a practice, and answering a patient who calls back.

A call is: the practice's greeting (open or after hours) and the emergency disclaimer, the
call type, that type's fields and nothing more, the triage questions, then "check
priority", which shows the protocol's priority and the exact words to say. "Save" opens
the message (triaged again, routed, sealed, audited, in one transaction) and redirects to
the read-back. Bad input is refused whole with a clear message: nothing is saved half-way.

The read-back is found through the session of the member who took the call, never an id
in the URL, and only for a few minutes.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinicline.accounts.access import AuthenticatedRequest, PracticeRequest, member_view
from clinicline.accounts.roles import Perm, allows
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.intake import identity
from clinicline.intake.console_forms import ReturnCallForm, TriageForm, no_autofill
from clinicline.intake.forms import form_for
from clinicline.intake.office import Office, promise
from clinicline.intake.scripts import ENGLISH, Scripts, advice_keys
from clinicline.intake.service import as_taken, call_types_for, scripts_for, take_message
from clinicline.intake.spec import CallType
from clinicline.oncall import pages
from clinicline.patients.normalize import InvalidPhone, phone_e164
from clinicline.practices.models import GatewayAccount
from clinicline.triage import service as triage
from clinicline.triage.engine import Decision

READ_BACK_FOR = dt.timedelta(minutes=30)
TAKEN = "console_taken"  # session key: the last message this member took, for the read-back


# --- picking the practice -------------------------------------------------------------

@login_required
@require_GET
def picker(request: AuthenticatedRequest) -> HttpResponse:
    """The member's practices where they take calls; ``?dialled=`` picks the practice whose
    line (gateway number or callback number) was dialled."""
    practices = [m.practice for m in request.user.memberships.select_related("practice")
                 .order_by("practice__name") if allows(m.role, Perm.TAKE_CALLS)]
    dialled, problem = request.GET.get("dialled", "").strip(), ""
    if dialled:
        try:
            number = phone_e164(dialled)
        except InvalidPhone as exc:
            number, problem = "", str(exc)
        lines = set(GatewayAccount.objects.filter(phone_number=number)
                    .values_list("practice_id", flat=True))
        found = [p for p in practices if p.pk in lines or p.callback_number == number]
        if len(found) == 1:
            return redirect("console:call", practice=found[0].slug)
        if found:
            practices, problem = found, "Several of your practices answer that number."
        problem = problem or f"None of your practices answers {dialled[:20]}."
    if len(practices) == 1 and not dialled:
        return redirect("console:call", practice=practices[0].slug)
    return render(request, "intake/console_picker.html",
                  {"practices": practices, "problem": problem})


# --- taking a call ----------------------------------------------------------------------

def _call_type(request: PracticeRequest, slug: str) -> CallType | None:
    return call_types_for(request.practice).get(slug) if slug else None


@dataclass
class Call:
    """A call being taken: its type, and the forms bound to what the agent typed."""

    call_type: CallType | None
    fields: forms.Form | None = None
    questions: TriageForm | None = None

    @classmethod
    def of(cls, request: PracticeRequest, slug: str, data: Any = None) -> Call:
        call_type = _call_type(request, slug)
        if call_type is None:
            return cls(None)
        spec = triage.protocol_for(request.practice).spec
        return cls(call_type, no_autofill(form_for(call_type)(data)),
                   TriageForm(spec, call_type.slug, data))

    def focus(self, decision: Decision | None) -> None:
        """Where the cursor starts: the first field, the first mistake, or (once the
        priority is shown) the Save button, which the template focuses."""
        if self.fields is None or self.questions is None or decision is not None:
            return
        bound = [*self.fields, *self.questions]
        wrong = [f for f in bound if f.errors]
        first = (wrong or bound or [None])[0]
        if first is not None:
            first.field.widget.attrs["autofocus"] = True

    def valid(self) -> Valid | None:
        """The call type and both forms, when both are valid; None otherwise."""
        if self.call_type is None or self.fields is None or self.questions is None:
            return None
        if not (self.fields.is_valid() & self.questions.is_valid()):  # both: all errors shown
            return None
        return Valid(self.call_type, self.fields, self.questions)


class Valid(NamedTuple):
    """A call whose forms are valid: what saving or checking it needs."""

    call_type: CallType
    fields: forms.Form
    questions: TriageForm


@dataclass(frozen=True)
class Line:
    """Words for the agent to say: in the caller's language, and in English beside them
    when the caller's language is another."""

    said: str
    language: str
    english: str = ""


def line(words: Scripts, say: Callable[[Scripts], str]) -> Line:
    said = say(words)
    if words.language == ENGLISH:
        return Line(said, ENGLISH)
    return Line(said, words.language, say(words.in_language(ENGLISH)))


def caller_words(request: PracticeRequest) -> Scripts:
    """The practice's scripts in the language the agent picked for this caller (``lang``),
    in the version the call began under (``scripts_version``, posted back by the form)."""
    data = request.POST if request.method == "POST" else request.GET
    version = data.get("scripts_version", "")
    number = int(version) if version.isascii() and version.isdigit() and len(version) < 7 else 0
    return scripts_for(request.practice, data.get("lang", ENGLISH)[:5], number)


def _page(request: PracticeRequest, call: Call, *, decision: Decision | None = None,
          status: int = 200) -> HttpResponse:
    office, words = Office.now(request.practice), caller_words(request)
    greeting, slots = office.greeting(request.practice.name)
    call.focus(decision)
    posted = request.method == "POST"
    token = request.POST.get("call_token", "")[:32] if posted else ""
    return render(request, "intake/console.html", {
        "office": office, "words": words,
        "greeting": line(words, lambda w: w.text(greeting, **slots)),
        "disclaimer": line(words, lambda w: w.text("emergency")),
        "call_types": call_types_for(request.practice).call_types,
        "call_type": call.call_type, "form": call.fields, "triage": call.questions,
        "decision": decision, "token": token or uuid.uuid4().hex,
        # The protocol's advice, in the practice's words for this caller.
        "advice": [line(words, functools.partial(Scripts.text, name=key))
                   for key in advice_keys(decision.actions)] if decision else [],
        "unknown_type": posted and call.call_type is None,
    }, status=status)


@member_view(Perm.TAKE_CALLS)
@require_GET
def call(request: PracticeRequest) -> HttpResponse:
    return _page(request, Call.of(request, request.GET.get("type", "")))


@member_view(Perm.TAKE_CALLS)
@require_POST
def check(request: PracticeRequest) -> HttpResponse:
    """Show the protocol's priority and script for what has been typed; saves nothing."""
    taking = Call.of(request, request.POST.get("call_type", ""), request.POST)
    valid = taking.valid()
    if valid is None:
        return _page(request, taking, status=400)
    decision = triage.triage(request.practice, valid.call_type.slug, valid.questions.answers,
                             as_taken(valid.call_type, valid.fields.cleaned_data).free_texts())
    return _page(request, taking, decision=decision)


@member_view(Perm.TAKE_CALLS)
@require_POST
def save(request: PracticeRequest) -> HttpResponse:
    """Open the message (triaged again by the protocol, routed, sealed, audited)."""
    token = request.POST.get("call_token", "")[:32]
    taken = request.session.get(TAKEN) or {}
    if token and taken.get("token") == token and taken.get("practice") == request.practice.pk:
        return redirect("console:taken", practice=request.practice.slug)  # pressed twice
    taking = Call.of(request, request.POST.get("call_type", ""), request.POST)
    valid = taking.valid()
    if valid is None:
        return _page(request, taking, status=400)
    words = caller_words(request)
    message = take_message(request.practice, valid.call_type, valid.fields.cleaned_data,
                           source=Source.AGENT, answers=valid.questions.answers,
                           scripts_version=words.version, language=words.language,
                           taken_by=request.user, request=request)
    request.session[TAKEN] = {"message": str(message.pk), "practice": request.practice.pk,
                              "token": token, "at": timezone.now().timestamp()}
    return redirect("console:taken", practice=request.practice.slug)


def _taken_message(request: PracticeRequest) -> Message | None:
    taken = request.session.get(TAKEN) or {}
    age = timezone.now().timestamp() - float(taken.get("at", 0))
    if taken.get("practice") != request.practice.pk or age > READ_BACK_FOR.total_seconds():
        return None
    return (Message.objects.for_practice(request.practice).select_related("team")
            .filter(pk=taken["message"], taken_by=request.user).first())


@member_view(Perm.TAKE_CALLS)
@require_GET
def taken(request: PracticeRequest) -> HttpResponse:
    """The read-back of the call just taken, for the member who took it."""
    message = _taken_message(request)
    if message is None:
        messages.info(request, "There is no call to read back: read-backs are shown for "
                               f"{READ_BACK_FOR.seconds // 60} minutes after saving.")
        return redirect("console:call", practice=request.practice.slug)
    callback = str(message.fields.get("callback_number", ""))
    record(Action.VIEW, request=request, practice=request.practice, obj=message,
           patient=message.patient_id or "",
           fields=["priority", "script", *(["callback_number"] if callback else [])])
    office, page = Office.now(request.practice), pages.page_of(message)
    words = scripts_for(request.practice, message.language, message.scripts_version or 0)

    def read_back(w: Scripts) -> str:
        name, slots = promise(w, request.practice, message, office)
        said = w.text(name, **slots)
        return f"{said} {w.text('read_back_number', digits=callback[-4:])}" if callback else said

    return render(request, "intake/console_taken.html", {
        "message": message, "office": office, "read_back": line(words, read_back),
        "closing": line(words, lambda w: w.text("closing")), "page": page,
        "page_events": pages.timeline(page) if page else [],
    })


# --- return calls -------------------------------------------------------------------------

@member_view(Perm.TAKE_CALLS)
def return_call(request: PracticeRequest) -> HttpResponse:
    """Identity first. What the office left for the caller is rendered in the answer to
    the check itself, so nothing about them is kept in a URL or the session."""
    form = ReturnCallForm(request.POST or None)
    if not form.is_valid():
        return render(request, "intake/return_call.html", {"form": form},
                      status=400 if form.errors else 200)
    checked = identity.verify_caller(request.practice, form.claim(), request=request)
    if not checked.verified:
        # A fresh form: the refusal page repeats nothing the caller said.
        return render(request, "intake/return_call.html", {
            "form": ReturnCallForm(),
            "refusal": scripts_for(request.practice).text("return_call_refusal"),
            "throttled": checked.throttled})
    waiting = list(Message.objects.for_practice(request.practice)
                   .filter(Q(patient=checked.patient) & ~Q(status=MessageStatus.CLOSED))
                   .order_by("-created_at")[:20])
    record(Action.VIEW, request=request, practice=request.practice, obj=checked.patient,
           patient=checked.patient, fields=["open_messages"])
    labels = {t.slug: t.label for t in call_types_for(request.practice).call_types}
    return render(request, "intake/return_call_verified.html", {
        "waiting": [(labels.get(m.call_type, m.call_type), m) for m in waiting]})
