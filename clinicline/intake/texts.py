"""Texts to the practice number: answered at once, read by the worker.

The sms webhook stays cheap (the webhook bench measures it): the ledger stores the text,
and the answer is a constant, PHI-free auto-reply that says the emergency line (nothing at
all to a keyword). The worker claims each unprocessed text and either leaves it to
outreach (a keyword: STOP, HELP, C, R, …) or makes it a message: a new conversation
(call type "other", triaged like any other message), or the next text of the open
conversation with that number from the last day, appended and re-triaged, so a follow-up
that mentions a red flag raises the message's priority.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from twilio.twiml.messaging_response import MessagingResponse

from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.gateways.models import InboundWebhook, Kind
from clinicline.gateways.webhooks import Inbound, register
from clinicline.inbox.models import Message, MessageStatus, Source
from clinicline.inbox.service import caller_index, open_message, raise_priority
from clinicline.intake.ivr import FALLBACK_SLUG, call_type, valid_number
from clinicline.intake.service import call_types_for
from clinicline.practices.models import Practice
from clinicline.worker import register as worker_job

log = logging.getLogger("clinicline.intake.texts")

# Carrier and outreach keywords, matched on the whole text (any case, surrounding spaces
# and a trailing full stop ignored). Outreach handles them; they never become messages.
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})
REPLIES = frozenset({"C", "R"})  # confirm, reschedule (reminders)
KEYWORDS = OPT_OUT | OPT_IN | HELP | REPLIES

AUTO_REPLY_TEXT = ("We received your text and will reply during office hours. Texts are not "
                   "for emergencies: if this is a medical emergency, call 911.")
CONVERSATION_WINDOW = dt.timedelta(hours=24)
BATCH = 50
MAX_TRIES = 5
TRIES = re.compile(r"text not handled \((\d+)\)")


def auto_reply() -> str:
    response = MessagingResponse()
    response.message(AUTO_REPLY_TEXT)
    return str(response)


AUTO_REPLY = auto_reply()


def is_keyword(body: str) -> bool:
    return body.strip().rstrip(".!").strip().upper() in KEYWORDS


def answer(inbound: Inbound) -> str:
    """The sms webhook: no database work beyond the ledger's own row."""
    return "" if is_keyword(inbound.params.get("Body", "")) else AUTO_REPLY


# --- the worker ------------------------------------------------------------------------------

@worker_job("texts", every_s=2)
def handle_texts(limit: int = BATCH) -> int:
    """Each unprocessed text once: claimed and handled in one transaction, so a worker
    that dies mid-text leaves it unprocessed for the next pass."""
    waiting = (InboundWebhook.objects.filter(kind=Kind.SMS, processed_at__isnull=True)
               .order_by("received_at").values_list("pk", flat=True)[:limit])
    handled = 0
    for pk in list(waiting):
        try:
            with transaction.atomic():
                webhook = claim(pk)
                if webhook is None:
                    continue
                handle(webhook)
            handled += 1
        except Exception as exc:  # noqa: BLE001 (one bad text must not stop the others)
            failed(pk, exc)
    return handled


def claim(pk: Any) -> InboundWebhook | None:
    """The row, if this worker wins it: on PostgreSQL a locked row is skipped (another
    worker has it); everywhere the conditional update must touch exactly this one row."""
    rows = InboundWebhook.objects.filter(pk=pk, kind=Kind.SMS, processed_at__isnull=True)
    if connection.features.has_select_for_update_skip_locked:
        webhook = rows.select_for_update(skip_locked=True).first()
    else:
        webhook = rows.first()
    now = timezone.now()
    if webhook is None or rows.update(processed_at=now, error="") != 1:
        return None
    webhook.processed_at = now
    return webhook


def failed(pk: Any, exc: Exception) -> None:
    """Retried on the next passes; after ``MAX_TRIES`` kept with its error for a person to
    look at (the text stays in the ledger). Never the exception's message: it may quote."""
    webhook = InboundWebhook.objects.filter(pk=pk).only("error").first()
    if webhook is None:
        return
    seen = TRIES.match(webhook.error)
    tries = (int(seen[1]) if seen else 0) + 1
    error = f"text not handled ({tries}): {type(exc).__name__}"
    done = timezone.now() if tries >= MAX_TRIES else None
    log.error("text %s not handled (try %d): %s", pk, tries, type(exc).__name__)
    InboundWebhook.objects.filter(pk=pk).update(error=error, processed_at=done)


def handle(webhook: InboundWebhook) -> Message | None:
    params = webhook.params
    body = str(params.get("Body", "")).strip()
    if is_keyword(body) or not body:
        return None  # outreach's keywords; an empty text (a picture alone) says nothing
    practice = Practice.objects.get(pk=webhook.practice_id)
    number = str(params.get("From", ""))
    entry = {"at": webhook.received_at.isoformat(), "from": "caller", "body": body}
    message = open_conversation(practice, number, webhook.received_at)
    if message is None:
        types = call_types_for(practice)
        return open_message(practice, call_type(types, FALLBACK_SLUG),
                            {"message": body, "callback_number": valid_number(number)},
                            source=Source.SMS, at=webhook.received_at, caller_number=number,
                            conversation=[entry])
    message.conversation = [*message.conversation, entry]
    message.save(update_fields=["content", "updated_at"])
    record(Action.UPDATE, practice=practice, obj=message, patient=message.patient_id or "",
           fields=["conversation"], reason="text received")
    raise_priority(message, [body], reason="text")
    return message


def open_conversation(practice: Practice, number: str, at: dt.datetime) -> Message | None:
    """The number's text conversation still open and active within the window, locked."""
    index = caller_index(practice, number)
    if not index:
        return None  # no usable number: nothing to continue
    return (Message.objects.select_for_update()
            .filter(practice=practice, source=Source.SMS, caller_index=index,
                    updated_at__gte=at - CONVERSATION_WINDOW)
            .exclude(status=MessageStatus.CLOSED).order_by("-updated_at").first())


def install() -> None:
    register(Kind.SMS, answer, answer_only=True)
