"""The practice's phone line when no agent takes the call (the IVR).

Greeting and the emergency line, always. Office open with a front desk line: the call is
forwarded there, and the menu plays if nobody answers. Otherwise a menu: 1 is an urgent
medical problem (a callback number, a message opened as urgent at once, a short
recording); 2 and up are the practice's call types, each a bounded voicemail into its
queue.

An urgent caller's message left, a practice that offers it tries to connect the caller to
the provider on call (``oncall.voice``: the provider hears a whisper, enters their PIN and
presses 1); if that fails the caller hears the same callback promise as anyone.

The IVR speaks in vendor-neutral scripts (``outbox.voice``): the gateway calls
``answer_call`` for a new call, ``continue_call`` for each step after it, and
``recording_ready`` once a voicemail's audio is queued, and renders what they return. A step
is a ``Step``: its name, a try counter, a call-type slug and version, nothing about the
caller; the gateway makes each a distinct URL, so its webhook ledger keys every step of a
call apart and a retried step gets its first answer with no second effect. Spoken text is
PHI-free: the practice's name, call-type labels, times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from clinicline.inbox.models import Message, Recording, Source
from clinicline.intake.models import Call, CallTypeSet
from clinicline.intake.service import call_types_for, take_message, version_of
from clinicline.intake.spec import CallType
from clinicline.oncall import pages
from clinicline.oncall import voice as voice_page
from clinicline.outbox.voice import (
    CallEvent,
    Dial,
    Gather,
    Hangup,
    Record,
    Redirect,
    Say,
    Script,
    Step,
)
from clinicline.patients.normalize import InvalidPhone, phone_e164
from clinicline.practices import hours
from clinicline.practices.models import Practice

log = logging.getLogger("clinicline.intake.ivr")

EMERGENCY = "If this is a medical emergency, hang up and dial 9 1 1."
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
ANSWERED = {"completed", "answered"}
# The voicemail's steps: where the caller goes when they stop recording, and what the
# vendor calls once the audio is ready. Without a call-type parameter the voicemail is
# the practice's general one (the fallback greeting takes those).
RECORDED, READY = "recorded", "ready"
# The step after a live transfer's call to the provider on call.
TRANSFERRED = "transferred"
# The step after the outage answer's call to the fallback phone.
UNAVAILABLE_DIALLED = "unavailable-dialled"


# --- call types ------------------------------------------------------------------------------

def call_types(practice: Practice, version: int = 0) -> CallTypeSet:
    """The version the menu was read from (keys must mean what was said), else in force."""
    return (version_of(practice, version) if version else None) or call_types_for(practice)


def choices(types: CallTypeSet) -> dict[str, CallType]:
    """Keys 2..9, in the order of the practice's call types; more than eight are not offered."""
    offered = types.call_types[: 10 - FIRST_TYPE_KEY]
    return {str(FIRST_TYPE_KEY + i): t for i, t in enumerate(offered)}


def valid_number(raw: str) -> str:
    try:
        return phone_e164(raw) if raw else ""
    except InvalidPhone:
        return ""


# --- the answers -----------------------------------------------------------------------------

def greeting(practice_name: str) -> Say:
    return Say(f"Thank you for calling {practice_name}. {EMERGENCY}")


def answer_call(practice: Practice, call: CallEvent) -> Script:
    """A new call: greeting, emergency line, then the front desk or the menu."""
    Call.objects.get_or_create(call_sid=call.call_sid, defaults={
        "practice": practice, "caller": valid_number(call.caller)})
    if practice.front_desk_number and hours.is_open(practice, timezone.now()):
        return (greeting(practice.name),
                Say("Please hold while we connect you to the front desk."),
                Dial(practice.front_desk_number, Step.of("front-desk"), DIAL_TIMEOUT_S))
    return (greeting(practice.name), *menu(practice, tries=1))


def fallback(practice_name: str) -> Script:
    """What the caller hears when answering the call failed: the emergency line and the
    practice's general voicemail. It needs nothing but the name: no query can fail it."""
    return (greeting(practice_name),
            Say("Please leave a message with your name and the best number to reach you "
                "after the tone."),
            Record(Step.of(RECORDED), Step.of(READY), VOICEMAIL_S))


def unavailable(practice_name: str, fallback_phone: str) -> Script:
    """What a caller hears when the practice's records cannot be reached (a database
    outage): the emergency line, that no message can be taken now, and the fallback phone
    when there is one. Built from two strings that need no query."""
    welcome = greeting(practice_name) if practice_name else Say(EMERGENCY)
    sorry = Say("We are sorry, we cannot take messages right now.")
    if not fallback_phone:
        return (welcome, sorry, Say("Please call again in a few minutes."), Hangup())
    return (welcome, sorry, Say("Please hold while we connect you."),
            Dial(fallback_phone, Step.of(UNAVAILABLE_DIALLED), DIAL_TIMEOUT_S))


def goodbye() -> Script:
    return (Say(f"Thank you. {EMERGENCY} Goodbye."), Hangup())


def menu(practice: Practice, tries: int) -> Script:
    types = call_types_for(practice)
    step = Step.of("menu", v=types.version, attempt=tries)
    spoken = [f"If you have an urgent medical problem that cannot wait, press {URGENT_KEY}."]
    spoken += [f"For {t.label}, press {key}." for key, t in choices(types).items()]
    # No key before the timeout: the same step again, without digits.
    return (Gather((Say(" ".join(spoken)),), step, MENU_TIMEOUT_S, num_digits=1),
            Redirect(step))


def front_desk(practice: Practice, call: CallEvent, step: Step) -> Script:
    """The forwarded call ended: done if the front desk answered, else the menu."""
    if call.dial_status in ANSWERED:
        return (Hangup(),)
    return (Say("The front desk is not available right now."), *menu(practice, tries=1))


def menu_choice(practice: Practice, call: CallEvent, step: Step) -> Script:
    types = call_types(practice, step.number("v"))
    tries, digits = step.number("attempt", 1), call.digits
    if digits == URGENT_KEY:
        return callback_prompt(tries=1)
    chosen = choices(types).get(digits)
    if chosen is not None:
        return voicemail_prompt(chosen)
    if tries >= (MENU_TRIES if digits else SILENT_TRIES):
        return (Say("We did not get a choice, so we will take a message for the practice."),
                *voicemail_prompt(types.general))
    return (Say("Sorry, that is not one of the choices." if digits
                else "We did not hear a choice."), *menu(practice, tries + 1))


def callback_prompt(tries: int) -> Script:
    step = Step.of("callback", attempt=tries)
    prompt = Say("Please enter the best phone number to call you back, then press pound. "
                 "To be called back at the number you are calling from, just press pound.")
    # Only pound, or nothing: the number calling.
    return (Gather((prompt,), step, CALLBACK_TIMEOUT_S, finish_on_key="#"), Redirect(step))


def callback(practice: Practice, call: CallEvent, step: Step) -> Script:
    """The urgent caller's number: the message opens now, before the recording."""
    digits, tries = call.digits.strip("#"), step.number("attempt", 1)
    number = valid_number(digits)
    if digits and not number and tries < CALLBACK_TRIES:
        return (Say("Sorry, that is not a complete phone number."), *callback_prompt(tries + 1))
    types = call_types_for(practice)
    urgent_message(practice, types.urgent, call, number or valid_number(call.caller))
    return (Say(read_back(practice)),
            Say("After the tone, briefly describe the problem. Press pound when you are "
                "finished."),
            Record(Step.of("urgent-recorded"),
                   Step.of(READY, type=types.urgent.slug, v=types.version), URGENT_RECORD_S),
            Say(f"{read_back(practice)} {EMERGENCY} Goodbye."), Hangup())


def read_back(practice: Practice) -> str:
    return (f"Thank you. The on-call provider will call you back within "
            f"{practice.urgent_callback_minutes} minutes.")


def voicemail_prompt(chosen: CallType) -> Script:
    ready = Step.of(READY, type=chosen.slug, v=chosen.version)
    return (Say(f"{chosen.label}. Please leave a message with your name and the best number "
                "to reach you after the tone. Press pound when you are finished."),
            Record(Step.of(RECORDED, type=chosen.slug, v=chosen.version), ready, VOICEMAIL_S),
            Say("We did not receive a message. Goodbye."), Hangup())


def recorded(practice: Practice, call: CallEvent, step: Step) -> Script:
    """A voicemail's record action: its message, in the chosen type's queue."""
    voicemail_message(practice, call.call_sid, step, call.recording_sid)
    return (Say(f"Thank you. Your message has been sent to the practice. {EMERGENCY} "
                "Goodbye."), Hangup())


def urgent_recorded(practice: Practice, call: CallEvent, step: Step) -> Script:
    link_recording(practice, call.call_sid, call.recording_sid)
    return live_transfer(practice, call) or (
        Say(f"{read_back(practice)} {EMERGENCY} Goodbye."), Hangup())


def live_transfer(practice: Practice, call: CallEvent) -> Script:
    """Where the practice offers it and someone on call can take it: hold, and a call to
    them that whispers first. Nothing (an empty script) otherwise."""
    if not practice.transfer_urgent_calls:
        return ()
    message = message_of_call(practice, call.call_sid)
    page = pages.page_of(message) if message is not None else None
    target = voice_page.transfer_target(practice) if page and not page.owned else None
    if page is None or target is None:
        return ()
    member, number = target
    whisper = voice_page.offer_transfer(page, member)
    return (Say("Please hold while I try to connect you to the provider on call."),
            Dial(number, Step.of(TRANSFERRED), practice.transfer_timeout_s, whisper=whisper,
                 caller_id=call.called))


def transfer_ended(practice: Practice, call: CallEvent, step: Step) -> Script:
    """Connected (the provider took the call by its whisper) and done: goodbye. Otherwise
    the caller hears the truth: a provider will call back, as promised before."""
    page = pages.page_of(message) if (message := message_of_call(
        practice, call.call_sid)) else None
    if call.dial_status in ANSWERED and voice_page.transferred(page):
        return (Say(f"Thank you for calling {practice.name}. Goodbye."), Hangup())
    return (Say("The provider could not be reached right now. A provider will call you back "
                f"within {practice.urgent_callback_minutes} minutes."), *goodbye())


STEPS: dict[str, Callable[[Practice, CallEvent, Step], Script]] = {
    "menu": menu_choice, "callback": callback, RECORDED: recorded,
    "urgent-recorded": urgent_recorded, "front-desk": front_desk,
    TRANSFERRED: transfer_ended}


def continue_call(practice: Practice, call: CallEvent, step: Step) -> Script:
    """The step a call's request names. An unknown step (a stale or hand-made URL) hears
    the menu again."""
    handler = STEPS.get(step.name)
    if handler is None:
        return menu(practice, tries=1)
    return handler(practice, call, step)


# --- messages --------------------------------------------------------------------------------

def lock_call(practice: Practice, call_sid: str) -> Call | None:
    """The call's row, locked: the record action and the recording callback can arrive
    together, and only one of them may open the call's message. (SQLite serialises
    writers anyway.)"""
    return (Call.objects.select_for_update()
            .filter(practice=practice, call_sid=call_sid).first())


def message_of_call(practice: Practice, call_sid: str) -> Message | None:
    if not call_sid:
        return None
    return Message.objects.filter(practice=practice, call_sid=call_sid).first()


def urgent_message(practice: Practice, chosen: CallType, call: CallEvent,
                   number: str) -> Message:
    with transaction.atomic():
        lock_call(practice, call.call_sid)
        message = message_of_call(practice, call.call_sid)
        if message is not None:
            return message
        return take_message(practice, chosen, {"callback_number": number},
                            source=Source.IVR, caller_number=call.caller,
                            call_sid=call.call_sid, floor="urgent", floor_rule="ivr-urgent",
                            said=(greeting(practice.name).text, read_back(practice)))


def voicemail_message(practice: Practice, call_sid: str, step: Step,
                      recording_sid: str) -> Message | None:
    """The call's message, opened now if neither the record action nor the recording
    callback has opened it yet, with its recording linked once that row exists."""
    if not call_sid:
        return None
    with transaction.atomic():
        call = lock_call(practice, call_sid)
        message = message_of_call(practice, call_sid)
        if message is None:
            caller = call.caller if call is not None else ""
            chosen = call_types(practice, step.number("v")).get_or_general(step.get("type"))
            # Every caller heard the greeting; whether they stayed for the thank-you after
            # the tone, only the record action knows, so it is not claimed.
            message = take_message(practice, chosen, {"callback_number": caller},
                                   source=Source.VOICEMAIL, caller_number=caller,
                                   call_sid=call_sid,
                                   said=(greeting(practice.name).text,))
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


def recording_ready(practice: Practice, recording: Recording, step: Step) -> None:
    """A voicemail's audio is queued for the worker (the gateway has its row): the call's
    message is opened (the caller hung up before the record action) or linked."""
    if recording.call_sid:
        voicemail_message(practice, recording.call_sid, step, recording.recording_sid)
