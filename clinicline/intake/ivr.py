"""The practice's phone line when no agent takes the call (the IVR).

Greeting and the emergency line, always. Office open with a front desk line: the call is
forwarded there, and the menu plays if nobody answers. Otherwise a menu: 1 is an urgent
medical problem (a callback number, a message opened as urgent at once, a short
recording); 2 and up are the practice's call types, each a bounded voicemail into its
queue.

Each step is a distinct gather URL (``?step=…``), so the webhook ledger keys every step of
a call apart and a retried step gets its first answer with no second effect. What a URL
carries is the step, a try counter, a call-type slug and version: nothing about the caller.
Spoken text is PHI-free: the practice's name, call-type labels, times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from clinicline.gateways import handlers
from clinicline.gateways.handlers import EMERGENCY
from clinicline.gateways.models import InboundWebhook, Kind, Recording
from clinicline.gateways.webhooks import Inbound, register
from clinicline.inbox.models import Message, Source
from clinicline.inbox.service import open_message
from clinicline.intake.models import CallTypeSet
from clinicline.intake.service import call_types_for, version_of
from clinicline.intake.spec import CallType
from clinicline.patients.normalize import InvalidPhone, phone_e164
from clinicline.practices import hours
from clinicline.practices.models import Practice

log = logging.getLogger("clinicline.intake.ivr")

URGENT_KEY = "1"
FIRST_TYPE_KEY = 2          # call types are 2..9: one key each
MENU_TIMEOUT_S = 6
CALLBACK_TIMEOUT_S = 10
DIAL_TIMEOUT_S = 20
URGENT_RECORD_S = 60
VOICEMAIL_S = 120
MENU_TRIES = 3              # bad keys replay the menu twice, then a general voicemail
SILENT_TRIES = 2            # no key at all: the menu once more, then the voicemail
CALLBACK_TRIES = 2
URGENT_SLUG, FALLBACK_SLUG = "clinical", "other"
ANSWERED = {"completed", "answered"}


# --- URLs ------------------------------------------------------------------------------------

def gather_url(step: str, **extra: object) -> str:
    return f"{reverse('gateways:twilio_gather')}?{urlencode({'step': step, **extra})}"


def recording_url(slug: str, version: int) -> str:
    return f"{reverse('gateways:twilio_recording')}?{urlencode({'type': slug, 'v': version})}"


@dataclass(frozen=True)
class Query:
    """The (signed) query of the URL a step was posted to."""

    values: dict[str, list[str]]

    @classmethod
    def of(cls, path: str) -> Query:
        return cls(parse_qs(urlsplit(path).query))

    def get(self, name: str) -> str:
        return self.values.get(name, [""])[0]

    def number(self, name: str, default: int = 0) -> int:
        value = self.get(name)
        return int(value) if value.isdigit() and len(value) < 6 else default


# --- call types ------------------------------------------------------------------------------

def call_types(practice: Practice, version: int = 0) -> CallTypeSet:
    """The version the menu was read from (keys must mean what was said), else in force."""
    return (version_of(practice, version) if version else None) or call_types_for(practice)


def choices(types: CallTypeSet) -> dict[str, CallType]:
    """Keys 2..9, in the order of the practice's call types; more than eight are not offered."""
    offered = types.call_types[: 10 - FIRST_TYPE_KEY]
    return {str(FIRST_TYPE_KEY + i): t for i, t in enumerate(offered)}


def call_type(types: CallTypeSet, *slugs: str) -> CallType:
    return next((t for s in slugs if (t := types.get(s)) is not None), types.call_types[0])


def valid_number(raw: str) -> str:
    try:
        return phone_e164(raw) if raw else ""
    except InvalidPhone:
        return ""


# --- the answers -----------------------------------------------------------------------------

def greet(inbound: Inbound) -> str:
    """The voice webhook: greeting, emergency line, then the front desk or the menu."""
    practice = inbound.practice
    response = VoiceResponse()
    response.say(f"Thank you for calling {practice.name}. {EMERGENCY}")
    if practice.front_desk_number and hours.is_open(practice, timezone.now()):
        response.say("Please hold while we connect you to the front desk.")
        dial = response.dial(action=gather_url("front-desk"), timeout=DIAL_TIMEOUT_S)
        dial.number(practice.front_desk_number)
        return str(response)
    return str(menu(response, practice, tries=1))


def menu(response: VoiceResponse, practice: Practice, tries: int) -> VoiceResponse:
    types = call_types_for(practice)
    step = gather_url("menu", v=types.version, attempt=tries)
    gather = response.gather(num_digits=1, timeout=MENU_TIMEOUT_S, action=step)
    spoken = [f"If you have an urgent medical problem that cannot wait, press {URGENT_KEY}."]
    spoken += [f"For {t.label}, press {key}." for key, t in choices(types).items()]
    gather.say(" ".join(spoken))
    # No key before the timeout: Twilio goes on to the next verb, the same step without Digits.
    response.redirect(step)
    return response


def front_desk(inbound: Inbound, query: Query) -> str:
    """The forwarded call ended: done if the front desk answered, else the menu."""
    response = VoiceResponse()
    if inbound.params.get("DialCallStatus", "") in ANSWERED:
        response.hangup()
        return str(response)
    response.say("The front desk is not available right now.")
    return str(menu(response, inbound.practice, tries=1))


def menu_choice(inbound: Inbound, query: Query) -> str:
    practice, digits = inbound.practice, inbound.params.get("Digits", "")
    types = call_types(practice, query.number("v"))
    tries = query.number("attempt", 1)
    if digits == URGENT_KEY:
        return str(callback_prompt(VoiceResponse(), tries=1))
    chosen = choices(types).get(digits)
    if chosen is not None:
        return str(voicemail_prompt(VoiceResponse(), chosen))
    response = VoiceResponse()
    if tries >= (MENU_TRIES if digits else SILENT_TRIES):
        response.say("We did not get a choice, so we will take a message for the practice.")
        return str(voicemail_prompt(response, call_type(types, FALLBACK_SLUG)))
    response.say("Sorry, that is not one of the choices." if digits
                 else "We did not hear a choice.")
    return str(menu(response, practice, tries + 1))


def callback_prompt(response: VoiceResponse, tries: int) -> VoiceResponse:
    step = gather_url("callback", attempt=tries)
    gather = response.gather(finish_on_key="#", timeout=CALLBACK_TIMEOUT_S, action=step)
    gather.say("Please enter the best phone number to call you back, then press pound. "
               "To be called back at the number you are calling from, just press pound.")
    response.redirect(step)  # only pound, or nothing: the number calling
    return response


def callback(inbound: Inbound, query: Query) -> str:
    """The urgent caller's number: the message opens now, before the recording."""
    practice, params = inbound.practice, inbound.params
    digits, tries = params.get("Digits", "").strip("#"), query.number("attempt", 1)
    number = valid_number(digits)
    if digits and not number and tries < CALLBACK_TRIES:
        response = VoiceResponse()
        response.say("Sorry, that is not a complete phone number.")
        return str(callback_prompt(response, tries + 1))
    types = call_types_for(practice)
    urgent_message(practice, call_type(types, URGENT_SLUG), params,
                   number or valid_number(params.get("From", "")))
    response = VoiceResponse()
    response.say(read_back(practice))
    response.say("After the tone, briefly describe the problem. Press pound when you are "
                 "finished.")
    response.record(max_length=URGENT_RECORD_S, finish_on_key="#", play_beep=True,
                    action=gather_url("urgent-recorded"),
                    recording_status_callback=recording_url(URGENT_SLUG, types.version))
    response.say(f"{read_back(practice)} {EMERGENCY} Goodbye.")
    response.hangup()
    return str(response)


def read_back(practice: Practice) -> str:
    return (f"Thank you. The on-call provider will call you back within "
            f"{practice.urgent_callback_minutes} minutes.")


def voicemail_prompt(response: VoiceResponse, chosen: CallType) -> VoiceResponse:
    response.say(f"{chosen.label}. Please leave a message with your name and the best number "
                 "to reach you after the tone. Press pound when you are finished.")
    version = chosen.version
    response.record(max_length=VOICEMAIL_S, finish_on_key="#", play_beep=True,
                    action=gather_url("recorded", type=chosen.slug, v=version),
                    recording_status_callback=recording_url(chosen.slug, version))
    response.say("We did not receive a message. Goodbye.")
    response.hangup()
    return response


def recorded(inbound: Inbound, query: Query) -> str:
    """A routine voicemail's <Record> action: its message, in the chosen type's queue."""
    voicemail_message(inbound.practice, inbound.params.get("CallSid", ""), query.get("type"),
                      query.number("v"), inbound.params.get("RecordingSid", ""))
    response = VoiceResponse()
    response.say(f"Thank you. Your message has been sent to the practice. {EMERGENCY} "
                 "Goodbye.")
    response.hangup()
    return str(response)


def urgent_recorded(inbound: Inbound, query: Query) -> str:
    link_recording(inbound.practice, inbound.params.get("CallSid", ""),
                   inbound.params.get("RecordingSid", ""))
    response = VoiceResponse()
    response.say(f"{read_back(inbound.practice)} {EMERGENCY} Goodbye.")
    response.hangup()
    return str(response)


STEPS = {"menu": menu_choice, "callback": callback, "recorded": recorded,
         "urgent-recorded": urgent_recorded, "front-desk": front_desk}


def step(inbound: Inbound) -> str:
    """The gather webhook: the step its URL names. An unknown step (a stale or hand-made
    URL) hears the menu again; the gateway's fallback greeting's voicemail is a message."""
    query = Query.of(inbound.path)
    if query.get("after") == "voicemail":
        return recorded(inbound, Query({"type": [FALLBACK_SLUG]}))
    handler = STEPS.get(query.get("step"))
    if handler is None:
        return str(menu(VoiceResponse(), inbound.practice, tries=1))
    return handler(inbound, query)


# --- messages --------------------------------------------------------------------------------

def lock_call(practice: Practice, call_sid: str) -> InboundWebhook | None:
    """The call's voice-webhook row, locked: the record action and the recording callback
    can arrive together, and only one of them may open the call's message. (SQLite
    serialises writers anyway: each has already inserted its ledger row.)"""
    return (InboundWebhook.objects.select_for_update()
            .filter(practice=practice, kind=Kind.VOICE, key=call_sid).first())


def message_of_call(practice: Practice, call_sid: str) -> Message | None:
    if not call_sid:
        return None
    return Message.objects.filter(practice=practice, call_sid=call_sid).first()


def urgent_message(practice: Practice, chosen: CallType, params: dict[str, str],
                   number: str) -> Message:
    call_sid = params.get("CallSid", "")
    with transaction.atomic():
        lock_call(practice, call_sid)
        message = message_of_call(practice, call_sid)
        if message is not None:
            return message
        return open_message(practice, chosen, {"callback_number": number},
                            source=Source.IVR, caller_number=params.get("From", ""),
                            call_sid=call_sid, floor="urgent", floor_rule="ivr-urgent")


def voicemail_message(practice: Practice, call_sid: str, slug: str, version: int,
                      recording_sid: str) -> Message | None:
    """The call's message, opened now if neither the record action nor the recording
    callback has opened it yet, with its recording linked once that row exists."""
    if not call_sid:
        return None
    with transaction.atomic():
        call = lock_call(practice, call_sid)
        message = message_of_call(practice, call_sid)
        if message is None:
            caller = call.params.get("From", "") if call is not None else ""
            chosen = call_type(call_types(practice, version), slug, FALLBACK_SLUG)
            message = open_message(practice, chosen, {"callback_number": valid_number(caller)},
                                   source=Source.VOICEMAIL, caller_number=caller,
                                   call_sid=call_sid)
        attach(practice, message, recording_sid)
    return message


def link_recording(practice: Practice, call_sid: str, recording_sid: str) -> None:
    with transaction.atomic():
        lock_call(practice, call_sid)
        message = message_of_call(practice, call_sid)
        if message is not None:
            attach(practice, message, recording_sid)


def attach(practice: Practice, message: Message, recording_sid: str) -> None:
    if message.recording_id is not None or not recording_sid:
        return
    recording = Recording.objects.filter(practice=practice, recording_sid=recording_sid).first()
    if recording is not None:
        message.recording = recording
        message.save(update_fields=["recording", "updated_at"])


def recording_ready(inbound: Inbound) -> str:
    """The recording status callback: the gateway queues the audio for the worker, then the
    call's message is opened (the caller hung up before the record action) or linked."""
    answer = handlers.queue_recording(inbound)
    params = inbound.params
    if inbound.webhook.error or params.get("RecordingStatus", "completed") != "completed":
        return answer
    recording = Recording.objects.filter(practice_id=inbound.account.practice_id,
                                         recording_sid=params.get("RecordingSid", "")).first()
    if recording is not None and recording.call_sid:
        query = Query.of(inbound.path)
        voicemail_message(inbound.practice, recording.call_sid, query.get("type"),
                          query.number("v"), recording.recording_sid)
    return answer


def install() -> None:
    register(Kind.VOICE, greet)
    register(Kind.GATHER, step)
    register(Kind.RECORDING, recording_ready)
