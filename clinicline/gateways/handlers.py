"""What the gateway does with inbound events until domain apps register their own: the
voice line greets, warns about emergencies and takes a voicemail; texts are kept for the
worker; status callbacks update the outbox; recordings are queued for fetching."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from clinicline import worker
from clinicline.gateways import recordings
from clinicline.gateways.models import InboundWebhook, Kind, Recording
from clinicline.gateways.webhooks import SID, Inbound, register
from clinicline.outbox import service as outbox
from clinicline.outbox.models import Delivery, Status

EMERGENCY = "If this is a medical emergency, hang up and dial 9 1 1."
VOICEMAIL_MAX_S = 120
# Where Twilio goes once the voicemail is recorded. Without an action it would request the
# greeting's own URL again, and the idempotent answer would greet the caller in a loop.
AFTER_VOICEMAIL = "after=voicemail"

# Twilio's words for how a message or call ended, in the outbox's terms.
DELIVERED = {"delivered", "read", "completed"}
FAILED = {"failed", "undelivered", "busy", "no-answer", "canceled"}
DURATION = re.compile(r"\d{1,6}")
ERROR_CODE = re.compile(r"\d{1,8}")
NO_DELIVERY_YET = "waiting for the delivery's vendor id"
EARLY_STATUS_WINDOW = dt.timedelta(minutes=10)


def greeting(inbound: Inbound) -> str:
    response = VoiceResponse()
    response.say(f"Thank you for calling {inbound.practice.name}. {EMERGENCY}")
    response.say("Please leave a message with your name and the best number to reach you "
                 "after the tone.")
    response.record(action=f"{reverse('gateways:twilio_gather')}?{AFTER_VOICEMAIL}",
                    max_length=VOICEMAIL_MAX_S, play_beep=True,
                    recording_status_callback=reverse("gateways:twilio_recording"))
    return str(response)


def goodbye(inbound: Inbound) -> str:
    response = VoiceResponse()
    response.say("Thank you. Goodbye.")
    response.hangup()
    return str(response)


def keep_for_worker(inbound: Inbound) -> str:
    # Texts are answered at once with nothing; the worker reads them (intake registers).
    return ""


def queue_recording(inbound: Inbound) -> str:
    """A voicemail is ready at the carrier: a row the worker fetches (never fetched here,
    inside Twilio's time budget)."""
    params, webhook = inbound.params, inbound.webhook
    webhook.processed_at = timezone.now()
    if params.get("RecordingStatus", "completed") != "completed":
        return ""
    try:
        recordings.source_for(params.get("RecordingUrl", ""), params["RecordingSid"],
                              inbound.account)
    except recordings.RecordingError as exc:
        webhook.error = str(exc)[:200]
        return ""
    duration = params.get("RecordingDuration", "")
    call_sid = params.get("CallSid", "")
    Recording.objects.get_or_create(recording_sid=params["RecordingSid"], defaults={
        "practice_id": inbound.account.practice_id,
        "call_sid": call_sid if SID.fullmatch(call_sid) else "",
        "source_url": params["RecordingUrl"],
        "duration_s": int(duration) if DURATION.fullmatch(duration) else None,
        "due_at": timezone.now()})
    return ""


def delivery_status(inbound: Inbound) -> str:
    apply_status(inbound.params, inbound.webhook)
    return ""


def apply_status(params: dict[str, str], webhook: InboundWebhook) -> None:
    """Move the delivery a status callback names. A callback can beat the worker, which
    stores the vendor's id only once the vendor has answered: then the webhook is left
    unprocessed, and ``retry_early_statuses`` applies it once the id is there."""
    state = params.get("MessageStatus") or params.get("CallStatus", "")
    vendor_id = params.get("MessageSid") or params.get("CallSid", "")
    practice = webhook.practice_id
    if state not in DELIVERED | FAILED:
        webhook.processed_at = timezone.now()
        return
    if not Delivery.objects.filter(vendor_id=vendor_id, practice_id=practice).exists():
        webhook.error = NO_DELIVERY_YET
        return
    webhook.processed_at, webhook.error = timezone.now(), ""
    # Tenancy: a practice's signed callback moves only that practice's deliveries.
    if state in DELIVERED:
        outbox.vendor_status(vendor_id, Status.DELIVERED, practice=practice)
    else:
        code = params.get("ErrorCode", "")
        code = f" (error {code})" if ERROR_CODE.fullmatch(code) else ""
        outbox.vendor_status(vendor_id, Status.FAILED, error=f"Twilio: {state}{code}",
                             practice=practice)


@worker.register("status-callbacks", every_s=5)
def retry_early_statuses(now: dt.datetime | None = None) -> int:
    """Apply status callbacks that arrived before their delivery's vendor id was stored;
    give up on those that still name no delivery after ``EARLY_STATUS_WINDOW``."""
    now = now or timezone.now()
    waiting = InboundWebhook.objects.filter(kind=Kind.STATUS, processed_at__isnull=True,
                                            error=NO_DELIVERY_YET)
    applied = 0
    for webhook in waiting.order_by("received_at")[:100]:
        with transaction.atomic():
            # Claimed by a conditional update: two workers never apply one callback twice.
            claimed = InboundWebhook.objects.filter(pk=webhook.pk, processed_at__isnull=True,
                                                    error=NO_DELIVERY_YET)
            if not claimed.update(error="applying"):
                continue
            apply_status(webhook.params, webhook)
            if webhook.processed_at is None and webhook.received_at < now - EARLY_STATUS_WINDOW:
                webhook.processed_at, webhook.error = now, "no delivery has that vendor id"
            InboundWebhook.objects.filter(pk=webhook.pk).update(
                processed_at=webhook.processed_at, error=webhook.error)
            applied += webhook.error == ""
    return applied


def install() -> None:
    register(Kind.VOICE, greeting)
    register(Kind.VOICE, greeting, fallback=True)
    register(Kind.GATHER, goodbye)
    register(Kind.GATHER, goodbye, fallback=True)
    register(Kind.SMS, keep_for_worker, answer_only=True)
    register(Kind.SMS, keep_for_worker, fallback=True)
    register(Kind.RECORDING, queue_recording)
    register(Kind.STATUS, delivery_status)
