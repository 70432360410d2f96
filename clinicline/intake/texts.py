"""Texts to the practice number: kept at once, read by the worker.

The sms webhook stays cheap (the webhook bench measures it): ``receive_text`` keeps the
text as an ``InboundText`` row, due now, and answers with a constant, PHI-free auto-reply
that says the emergency line (nothing at all to a keyword). The worker claims each due text:
a member's answer to a page first; then a keyword or reminder reply (STOP, HELP, C, R, …;
``outreach.keywords``) is done by ``outreach.replies`` and answered, an "R" becoming a
message in the scheduling queue; anything else, or a reply with nothing to act on, becomes a
message: a
new conversation (the practice's general call type, triaged like any other message), or the
next text of the open conversation with that number from the last day, appended and
re-triaged, so a follow-up that mentions a red flag raises the message's priority.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinicline import claims, rows
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.service import append_to_message, caller_index
from clinicline.intake import reschedule
from clinicline.intake.ivr import valid_number
from clinicline.intake.models import InboundText
from clinicline.intake.service import call_types_for, scripts_for, take_message
from clinicline.oncall import pages
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Channel
from clinicline.outreach import keywords, replies
from clinicline.outreach.appointment_models import Appointment
from clinicline.practices.models import Practice
from clinicline.triage.detector import fold
from clinicline.triage.spec import Priority

log = logging.getLogger("clinicline.intake.texts")

AUTO_REPLY_TEXT = ("We received your text and will reply during office hours. Texts are not "
                   "for emergencies: if this is a medical emergency, call 911.")
# Sent as soon as a text is triaged an emergency: the protocol's advice in the practice's
# words (911, Poison Control or 988: ``Scripts.advice``), then this; generic, nothing of
# what the caller wrote and nothing clinical.
DO_NOT_WAIT = {"en": "Please do not wait for a reply to your text.",
               "es": "Por favor no espere una respuesta a su mensaje."}
CONVERSATION_WINDOW = dt.timedelta(hours=24)
BATCH = 50
MAX_TRIES = 5
# Handling a text takes milliseconds; a worker that dies holding one delays it this long.
LEASE = dt.timedelta(seconds=30)
RETRY_BASE_S = 5


def is_keyword(body: str) -> bool:
    """A keyword or a reminder reply (``outreach.keywords``): the worker answers it, so the
    webhook sends no auto-reply. Pure string work: the webhook stays cheap."""
    return keywords.answered_by_worker(body)


def receive_text(practice_id: int, *, message_sid: str, sender: str, body: str,
                 at: dt.datetime | None = None) -> str:
    """The sms webhook's domain half: the text kept for the worker, due now, and the reply
    to send at once ("" for none). Unique on ``message_sid``: a retried webhook collides."""
    now = at or timezone.now()
    text = InboundText(practice_id=practice_id, message_sid=message_sid, received_at=now,
                       due_at=now)
    text.sender, text.body = sender, body
    rows.insert(text)
    return "" if is_keyword(body) else AUTO_REPLY_TEXT


# --- the worker ------------------------------------------------------------------------------

def handle_texts(limit: int = BATCH, now: dt.datetime | None = None) -> int:
    """The worker's job: each due text, claimed on a lease, handled once."""
    now = now or timezone.now()
    due = InboundText.objects.filter(state=InboundText.State.WAITING,
                                     due_at__lte=now).order_by("received_at")
    handled = 0
    for text in claims.claim_due(due, limit, due_at=now + LEASE, attempts=F("attempts") + 1):
        try:
            handled += take(text)
        except Exception as exc:  # noqa: BLE001 (one bad text must not stop the others)
            failed(text, exc, now)
    return handled


def take(text: InboundText) -> int:
    """Mark the text done and handle it in one transaction: if handling fails, it stays
    waiting; if this worker's lease lapsed and another took the text, this one touches
    nothing."""
    with transaction.atomic():
        mine = InboundText.objects.filter(pk=text.pk, state=InboundText.State.WAITING,
                                          attempts=text.attempts)
        if mine.update(state=InboundText.State.DONE, due_at=None, error="") != 1:
            return 0
        handle(text)
    return 1


def failed(text: InboundText, exc: Exception, now: dt.datetime) -> None:
    """Retried with backoff; after ``MAX_TRIES`` kept, FAILED, for a person to look at.
    Never the exception's message: it may quote the text."""
    error = f"not handled: {type(exc).__name__}"
    log.error("text %s not handled (try %d): %s", text.pk, text.attempts, type(exc).__name__)
    rows = InboundText.objects.filter(pk=text.pk, state=InboundText.State.WAITING)
    if text.attempts >= MAX_TRIES:
        rows.update(state=InboundText.State.FAILED, due_at=None, error=error)
    else:
        rows.update(error=error,
                    due_at=now + claims.backoff(text.attempts, RETRY_BASE_S))


def handle(text: InboundText) -> Message | None:
    body = str(text.body).strip()
    answer = pages.reply(text.practice_id, str(text.sender), body, now=text.received_at)
    if answer is not None:  # a member answering a page ("1", "ACK 4821", "E"): no message
        outbox.enqueue(Practice.objects.get(pk=text.practice_id), channel=Channel.SMS,
                       to=str(text.sender), body=answer, purpose=pages.PURPOSE,
                       idempotency_key=f"page-reply:{text.message_sid}")
        return None
    if not body:
        return None  # an empty text (a picture alone) says nothing
    practice = Practice.objects.get(pk=text.practice_id)
    number = str(text.sender)
    entry = {"at": text.received_at.isoformat(), "from": "caller", "body": body}
    reply = keywords.classify(body)
    if reply.kind is not keywords.Kind.NONE:
        done = replies.answer(practice, number, reply, at=text.received_at)
        replies.send(practice, number, done, key=text.message_sid)
        if done.appointment is not None and done.scheduling:
            return reschedule_message(practice, number, entry, done.appointment,
                                      text.received_at)
        if not done.to_inbox:
            return None
        # "C" with no reminder to confirm, "Yes" to a question: a message like any other,
        # which the webhook did not answer, so the worker sends the auto-reply now.
        outbox.enqueue(practice, channel=Channel.SMS, to=number, body=AUTO_REPLY_TEXT,
                       purpose="auto-reply", idempotency_key=f"auto-reply:{text.message_sid}")
    message = open_conversation(practice, number, text.received_at)
    if message is None:
        message = take_message(practice, call_types_for(practice).general,
                               {"message": body, "callback_number": valid_number(number)},
                               source=Source.SMS, at=text.received_at, caller_number=number,
                               conversation=(entry,), said=(AUTO_REPLY_TEXT,))
    else:
        message.conversation = [*message.conversation, entry]
        message.triage = {**message.triage,
                          "said": [*message.triage.get("said", []), AUTO_REPLY_TEXT]}
        append_to_message(message, [body], sealed="conversation", reason="text",
                          columns=["triage"])
        pages.open_for(message)  # a follow-up that raised the priority pages now
    if message.priority == Priority.EMERGENCY:
        advise_emergency(practice, message, number, key=f"emergency:{text.message_sid}",
                         caller_words=body)
    return message


# Words that say a text is Spanish (written without accents, as it is read); a text
# with more of them than of the English ones gets its advice in Spanish.
_SPANISH = frozenset("el la los las de del que y en un una mi mis su sus es esta estan "
                     "tiene tengo no puede hijo hija papa mama se me le por para muy con "
                     "ayuda dolor".split())
_ENGLISH = frozenset("the a an and of to is are my his her he she i it in on for with "
                     "not can has have was this that".split())


def language_of(text: str, default: str = "en") -> str:
    """"es" for a text that reads as Spanish, else ``default``: enough to answer an
    emergency in the caller's language."""
    words = re.findall(r"[a-z]+", fold(text.lower()))
    spanish = sum(w in _SPANISH for w in words)
    return "es" if spanish >= 2 and spanish > sum(w in _ENGLISH for w in words) else default


def emergency_text(practice: Practice, message: Message, caller_words: str = "") -> str:
    """The protocol's advice for this emergency, in the practice's words and the
    caller's language: "Please call Poison Control now at 1-800-222-1222. ..."."""
    language = message.language or "en"
    if language == "en" and caller_words:
        language = language_of(caller_words)
    words = scripts_for(practice, language, message.scripts_version or 0)
    actions = message.triage.get("actions") or ["advise-911"]
    lines = words.advice(actions) or words.advice(["advise-911"])
    return " ".join([*lines, DO_NOT_WAIT.get(words.language, DO_NOT_WAIT["en"])])


def advise_emergency(practice: Practice, message: Message, number: str, *, key: str,
                     caller_words: str = "") -> None:
    """Text the protocol's advice, once per message, and record what was sent. Also for a
    voicemail triaged an emergency once transcribed: the caller has hung up, and a text
    to the number they left is the one way left to tell them (an emergency-purpose
    message; a landline's text simply fails at the vendor)."""
    said = message.triage.get("said", [])
    to = valid_number(number)
    if message.triage.get("advice_sent") or not to:
        return
    body = emergency_text(practice, message, caller_words)
    outbox.enqueue(practice, channel=Channel.SMS, to=to, body=body,
                   purpose="emergency-advice", idempotency_key=key)
    message.triage = {**message.triage, "said": [*said, body], "advice_sent": True}
    message.save(update_fields=["triage", "updated_at"])


def reschedule_message(practice: Practice, number: str, entry: dict[str, Any],
                       appointment: Appointment, at: dt.datetime) -> Message:
    """An "R" to a reminder: the scheduling queue's message, with the conversation so far
    and which appointment it was (sealed with the conversation)."""
    local = timezone.localtime(appointment.starts_at, practice.tz)
    provider = appointment.provider.display_name
    asked = {"at": entry["at"], "from": "clinicline",
             "body": f"Asked to reschedule the appointment with {provider} on {local:%a} "
                     f"{local.day} {local:%b} at {local.hour % 12 or 12}:{local:%M} "
                     f"{local:%p} (a reply to its reminder)."}
    return reschedule.request_message(appointment, number=number, source=Source.SMS, at=at,
                                      conversation=(entry, asked))


def open_conversation(practice: Practice, number: str, at: dt.datetime) -> Message | None:
    """The number's text conversation still open and active within the window, locked."""
    index = caller_index(practice, number)
    if not index:
        return None  # no usable number: nothing to continue
    return (Message.objects.select_for_update()
            .filter(practice=practice, source=Source.SMS, caller_index=index,
                    updated_at__gte=at - CONVERSATION_WINDOW)
            .exclude(status=MessageStatus.CLOSED).order_by("-updated_at").first())
