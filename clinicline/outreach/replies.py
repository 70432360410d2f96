"""What a patient's reply does, and what staff may text back.

Inbound (``answer``): the worker hands over a text that ``keywords.classify`` recognised.

- an **opt-out** is written to the consent ledger (``consent.opt_out_by_sms``, also for a
  number nobody has on file) and answered by ONE confirmation, keyed by the text, which the
  outbox lets through although the number has just opted out (``outbox.OPT_OUT_PURPOSES``);
  from then on the outbox withholds every other text to the number, even one queued before;
- an **opt-in** lifts the number's opt-out and says so; from a number that never opted out
  it is an ordinary text ("Yes" to a question from staff), so it goes to the inbox;
- **help** answers with the practice's name and number, whether or not the number opted
  out (the industry's rule: HELP is always answered);
- a **reminder reply** (1/C, 2, 3/R) acts on the appointment whose reminder that number was
  texted most recently (``reminded``). No such appointment, or two reminded at once for
  different appointments (a parent's two children): the text goes to the inbox, never lost.

Outbound (``staff_reply``): an approved template, or free words that pass the PHI guard
with the patient's own identifiers, queued to the conversation's number and audited.

Every answer here is a fixed sentence with the practice's name and number and nothing of
the patient's, in the language of the patients with the number on file (``answer_language``):
their preferred language (English unless one is recorded, as for every text they get) where
they agree, English where two of them differ. A number nobody has on file is answered in the
keyword's own language (ALTO, AYUDA in Spanish): it is all there is to go on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clinicline.audit.models import Action, Outcome
from clinicline.audit.service import record
from clinicline.inbox.models import Message, Source
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel, Delivery
from clinicline.outreach import reminders
from clinicline.outreach import service as templates_service
from clinicline.outreach.appointment_models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderStatus,
)
from clinicline.outreach.keywords import REMINDER_KINDS, Kind, Reply
from clinicline.outreach.kinds import PURPOSE_REASON, Purpose
from clinicline.outreach.templates import MissingValue, Values, render, written_number
from clinicline.patients import consent, normalize
from clinicline.patients.models import BY_PHONE, ContactPoint, Language, Patient
from clinicline.practices.models import Practice
from clinicline.vault.blind import blind_index

# A reply counts for a reminder texted this recently (reminders go 7 and 2 days ahead).
REPLY_WINDOW = dt.timedelta(days=8)
# Reminders for two appointments sent this close together: a "C" could mean either.
AMBIGUOUS_WITHIN = dt.timedelta(hours=1)
REPLYABLE = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED,
             AppointmentStatus.RESCHEDULE_REQUESTED)
REPLY_PURPOSE = "sms-reply"
STAFF_PURPOSE = "staff-reply"


def _name(practice: Practice, language: str) -> str:
    if practice.name_in_messages:
        return practice.name
    return "este número" if language == "es" else "this number"


def opt_out_confirmation(practice: Practice, language: str = "en") -> str:
    name = _name(practice, language)
    if language == "es":
        return f"Ya no recibirá mensajes de {name}. Responda START para recibirlos de nuevo."
    return f"You will no longer get texts from {name}. Reply START to get them again."


def opt_in_confirmation(practice: Practice, language: str = "en") -> str:
    name = _name(practice, language)
    if language == "es":
        return f"Recibirá mensajes de {name} de nuevo. Responda STOP para darse de baja."
    return f"You will get texts from {name} again. Reply STOP to opt out."


def help_text(practice: Practice, language: str = "en") -> str:
    number = written_number(practice.callback_number)
    if language == "es":
        name = practice.name if practice.name_in_messages else "Nuestro consultorio"
        return (f"{name}: para recibir ayuda, llame al {number}. Los mensajes de texto no "
                "son para emergencias: llame al 911. Responda STOP para darse de baja.")
    name = practice.name if practice.name_in_messages else "Our office"
    return (f"{name}: for help call {number}. Texts are not for emergencies: call 911. "
            "Reply STOP to opt out.")


APPOINTMENT_ANSWERS = {
    Kind.CONFIRM: {"en": "Thank you: your appointment is confirmed.",
                   "es": "Gracias: su cita está confirmada."},
    Kind.CANCEL: {"en": "Your appointment is cancelled. To book again, call {number}.",
                  "es": "Su cita está cancelada. Para una nueva cita, llame al {number}."},
    Kind.RESCHEDULE: {"en": "Thank you. Our scheduling team will contact you to find a new "
                            "time.",
                      "es": "Gracias. Nuestro equipo de citas le llamará para buscar otra "
                            "hora."},
}


@dataclass(frozen=True)
class Answer:
    """What a reply did: the text to send back (queued by ``send``), and whether the text
    still has to become an inbox message (``to_inbox``; ``scheduling``: in the scheduling
    queue, for the appointment named)."""

    body: str = ""
    purpose: str = REPLY_PURPOSE
    to_inbox: bool = False
    scheduling: bool = False
    appointment: Appointment | None = None


INBOX = Answer(to_inbox=True)


def answer(practice: Practice, number: str, reply: Reply, *, at: dt.datetime) -> Answer:
    """Do what ``reply`` asks, recorded; the answer to text back."""
    e164 = _e164(number)
    if not e164:
        # A short code or a withheld sender: nothing can be recorded against it, nor sent.
        return INBOX if reply.kind in REMINDER_KINDS else Answer()
    if reply.kind is Kind.OPT_OUT:
        already = outbox.opted_out(practice, e164, at=at) is not None
        consent.opt_out_by_sms(practice, e164, at=at, evidence=reply.evidence)
        if already:
            return Answer()  # recorded; the number was told once, and is told nothing more
        return Answer(opt_out_confirmation(practice, answer_language(practice, e164, reply)),
                      purpose=outbox.OPT_OUT_CONFIRMATION)
    if reply.kind is Kind.OPT_IN:
        if outbox.opted_out(practice, e164, at=at) is None:
            return INBOX  # nothing to lift: "Yes" to a question is a message
        consent.opt_in_by_sms(practice, e164, at=at, evidence=reply.evidence)
        return Answer(opt_in_confirmation(practice, answer_language(practice, e164, reply)))
    if reply.kind is Kind.HELP:
        return Answer(help_text(practice, answer_language(practice, e164, reply)),
                      purpose=outbox.HELP_ANSWER)
    if reply.kind in REMINDER_KINDS:
        return _appointment_reply(practice, e164, reply, at)
    return INBOX


def answer_language(practice: Practice, e164: str, reply: Reply) -> str:
    """The language to answer ``reply`` from ``e164`` in (see the module's docstring)."""
    holders = list(Patient.objects.for_practice(practice).filter(
        pk__in=_holders(practice, e164)))
    return _language_of(holders, reply)


def _language_of(patients: list[Patient], reply: Reply) -> str:
    if not patients:
        return reply.language
    languages = {pref.language for pref in consent.preferences_of(patients).values()}
    return languages.pop() if len(languages) == 1 else Language.EN


def _holders(practice: Practice, e164: str) -> QuerySet[ContactPoint, Any]:
    """The ids of the practice's patients with ``e164`` on file as a phone (a subquery)."""
    key = blind_index(practice.pk, BY_PHONE, e164)
    return ContactPoint.objects.for_practice(practice).filter(
        kind=ContactPoint.Kind.PHONE, value_index=key).values("patient_id")


def _e164(number: str) -> str:
    try:
        return normalize.phone_e164(number)
    except normalize.InvalidPhone:
        return ""


def reminded(practice: Practice, e164: str, at: dt.datetime) -> Appointment | None:
    """The appointment a reply from ``e164`` answers: the one whose reminder by text to a
    patient with this number went most recently (within ``REPLY_WINDOW``), still ahead and
    still open. None when there is none, or when another appointment's reminder went
    within ``AMBIGUOUS_WITHIN`` of it."""
    recent = list(Reminder.objects.for_practice(practice).filter(
        status=ReminderStatus.SENT, decided_at__gte=at - REPLY_WINDOW, decided_at__lte=at,
        delivery__channel=Channel.SMS, appointment__patient__in=_holders(practice, e164),
        appointment__starts_at__gt=at, appointment__status__in=REPLYABLE)
        .select_related("appointment").order_by("-decided_at")[:10])
    if not recent:
        return None
    latest = recent[0]
    assert latest.decided_at is not None  # a sent reminder has been decided
    rivals = [r for r in recent[1:] if r.appointment_id != latest.appointment_id
              and r.decided_at is not None
              and latest.decided_at - r.decided_at < AMBIGUOUS_WITHIN]
    return None if rivals else latest.appointment


CHANGES = {Kind.CONFIRM: AppointmentStatus.CONFIRMED, Kind.CANCEL: AppointmentStatus.CANCELLED,
           Kind.RESCHEDULE: AppointmentStatus.RESCHEDULE_REQUESTED}


def _appointment_reply(practice: Practice, e164: str, reply: Reply,
                       at: dt.datetime) -> Answer:
    appointment = reminded(practice, e164, at)
    if appointment is None:
        return INBOX
    status = CHANGES[reply.kind]
    with transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=status, updated_at=at)
        appointment.status = status
        if reply.kind is Kind.CONFIRM:
            reminders.skip_confirmed(appointment, now=at)
        elif reply.kind is Kind.CANCEL:
            reminders.cancel_pending(appointment, reason="cancelled", now=at)
        record(Action.SMS_REPLY, practice=practice, obj=appointment,
               patient=appointment.patient_id, fields=["status"],
               reason=f"{status} by text ({reply.evidence})")
    language = _language_of([appointment.patient], reply)  # the patient it answers for
    words = APPOINTMENT_ANSWERS[reply.kind][language]
    return Answer(words.format(number=written_number(practice.callback_number)),
                  scheduling=reply.kind is Kind.RESCHEDULE, to_inbox=reply.kind is Kind.RESCHEDULE,
                  appointment=appointment)


def send(practice: Practice, number: str, answer: Answer, *, key: str) -> Delivery | None:
    """Queue the answer's text, once per inbound text (``key``: its message id)."""
    if not answer.body:
        return None
    return outbox.enqueue(practice, channel=Channel.SMS, to=number, body=answer.body,
                          purpose=answer.purpose, idempotency_key=f"sms-reply:{key}")


# --- staff replies in the conversation view ---------------------------------------------------

class ReplyRefused(ValueError):
    """A staff reply that is not sent; the message says why, in words for staff (the kinds
    of PHI found, never the words that matched)."""


def conversation_number(message: Message) -> str:
    """The number the conversation's texts came from, or "" (not a text conversation)."""
    if message.source != Source.SMS or not message.conversation:
        return ""
    return _e164(str(message.fields.get("callback_number") or ""))


def _words(kind: str) -> str:
    """A finding's kind as staff read it ("date-of-birth" -> "a date of birth")."""
    return "a " + kind.replace("_", " ").replace("-", " ")


# The approved texts staff may send as a reply: each asks the patient to call, and says
# only why in the closed list's words (a reminder needs its appointment, so it is not here).
REPLY_KINDS = (Purpose.CARE_TEAM, Purpose.RESULTS_READY, Purpose.BILLING)


@dataclass(frozen=True)
class ReplyTemplate:
    purpose: str
    label: str
    body: str


def reply_templates(practice: Practice, language: str = "en") -> list[ReplyTemplate]:
    """The practice's live SMS words for each reply kind, rendered for sending."""
    found = []
    for purpose in REPLY_KINDS:
        live = templates_service.live(practice, (purpose, "sms", language))
        try:
            body = render(live.body, practice=practice, channel="sms", language=language,
                          values=Values(reason=PURPOSE_REASON[purpose]))
        except MissingValue:
            continue  # words that need a value a reply has none of (a secure link)
        found.append(ReplyTemplate(purpose, Purpose(purpose).label, body))
    return found


def template_body(practice: Practice, purpose: str, language: str = "en") -> str:
    """The rendered words of the reply template for ``purpose``: from the server's own
    rendering, never from what the form posted."""
    for choice in reply_templates(practice, language):
        if choice.purpose == purpose:
            return choice.body
    raise ReplyRefused("Choose one of the approved templates.")


def check_free_text(message: Message, body: str) -> list[str]:
    """The kinds of PHI the guard finds in ``body``, for this conversation's patient."""
    return outbox.screened(message.practice, body, message.patient,
                           phone=conversation_number(message))


def staff_reply(membership: Any, message: Message, body: str, *, template: str = "",
                request: HttpRequest | None = None) -> Delivery:
    """Text ``body`` back to the conversation's number: refused (and audited as refused)
    when the guard finds PHI in it or the number has opted out; else queued, added to the
    conversation, and audited. ``template``: the approved template it came from, if any."""
    practice, number = message.practice, conversation_number(message)
    body = " ".join(body.split())
    if not number:
        raise ReplyRefused("This message has no number to text back.")
    if not body:
        raise ReplyRefused("Write a reply, or choose a template.")
    if len(body) > 480:
        raise ReplyRefused("Keep a text to 480 characters (three messages) or fewer.")
    if outbox.opted_out(practice, number) is not None:
        raise ReplyRefused("This number has opted out of texts (it replied STOP): nothing "
                           "can be texted to it. Call the patient instead.")
    found = check_free_text(message, body)
    if found:
        record(Action.STAFF_REPLY, request=request, actor=membership.user, practice=practice,
               obj=message, patient=message.patient_id or "", outcome=Outcome.DENIED,
               reason="blocked by the PHI guard: " + ", ".join(found))
        raise ReplyRefused("Not sent: the reply looks like it holds "
                           + ", ".join(_words(k) for k in found)
                           + ". A text is not secure; say only what a template would.")
    return _queue_reply(membership, message, body, number, template, request)


def _queue_reply(membership: Any, message: Message, body: str, number: str, template: str,
                 request: HttpRequest | None) -> Delivery:
    now = timezone.now()
    with transaction.atomic():
        delivery = outbox.enqueue(message.practice, channel=Channel.SMS, to=number, body=body,
                                  purpose=STAFF_PURPOSE, patient=message.patient,
                                  idempotency_key=f"staff-reply:{uuid.uuid4()}")
        entry = {"at": now.isoformat(), "from": "staff", "by": membership.user.username,
                 "body": body}
        locked = Message.objects.select_for_update().get(pk=message.pk)
        locked.conversation = [*locked.conversation, entry]
        locked.save(update_fields=["content", "updated_at"])
        message.conversation = locked.conversation
        record(Action.STAFF_REPLY, request=request, actor=membership.user,
               practice=message.practice, obj=message, patient=message.patient_id or "",
               fields=["conversation"],
               reason=f"template {template}" if template else "free text, guarded")
    return delivery
