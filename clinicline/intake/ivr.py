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

from clinicline.inbox.models import Message, Recording, Source
from clinicline.intake import scripts
from clinicline.intake.models import Call, CallTypeSet
from clinicline.intake.office import Office, promise
from clinicline.intake.scripts import ENGLISH, Scripts
from clinicline.intake.service import call_types_for, scripts_for, take_message, version_of
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
from clinicline.practices.models import Practice

log = logging.getLogger("clinicline.intake.ivr")

URGENT_KEY = "1"
FIRST_TYPE_KEY = 2          # call types are 2..8: one key each
LAST_TYPE_KEY = 8
GENERAL_KEY = "0"           # the general call type: "anything else"
LANGUAGE_KEY = "9"          # "para español, oprima nueve"
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


# --- the practice's words ----------------------------------------------------------------------

def words_of(practice: Practice, step: Step | None = None) -> Scripts:
    """The practice's scripts in the call's language and version (a call goes on in the
    words it began in): both travel in each step's parameters."""
    if step is None:
        return scripts_for(practice)
    return scripts_for(practice, step.get("lang") or ENGLISH, step.number("sv"))


def shipped() -> Scripts:
    """The default scripts, read from the file: for answers that may not query (a broken
    row, a database outage)."""
    return Scripts(scripts.default_document(), 0)


def say(words: Scripts, name: str, **slots: object) -> Say:
    return Say(words.spoken(name, **slots), language=words.voice)


def step_of(words: Scripts, name: str, **params: object) -> Step:
    """A step of the call, carrying its language and scripts version."""
    return Step.of(name, **params, lang=words.language, sv=words.version)


# --- call types ------------------------------------------------------------------------------

def call_types(practice: Practice, version: int = 0) -> CallTypeSet:
    """The version the menu was read from (keys must mean what was said), else in force."""
    return (version_of(practice, version) if version else None) or call_types_for(practice)


def choices(types: CallTypeSet) -> dict[str, CallType]:
    """Keys 2..8 in the order of the practice's call types, and 0 for the general one; more
    than seven others are not offered (the general voicemail takes them)."""
    others = [t for t in types.call_types if not t.general]
    offered = others[: LAST_TYPE_KEY - FIRST_TYPE_KEY + 1]
    return {**{str(FIRST_TYPE_KEY + i): t for i, t in enumerate(offered)},
            GENERAL_KEY: types.general}


def valid_number(raw: str) -> str:
    try:
        return phone_e164(raw) if raw else ""
    except InvalidPhone:
        return ""


# --- the answers -----------------------------------------------------------------------------

def greeting(words: Scripts, practice_name: str,
             office: Office | None = None) -> tuple[Say, Say]:
    """The greeting (for the office as it is now; after hours when that cannot be asked)
    and the emergency line."""
    name, slots = (office.greeting(practice_name) if office is not None
                   else ("greeting_after_hours", {"practice": practice_name}))
    return say(words, name, **slots), say(words, "emergency")


def heard_greeting(practice: Practice, words: Scripts) -> tuple[str, ...]:
    """The greeting and emergency line as the caller heard them (numbers digit by digit),
    for the message's record."""
    return tuple(spoken.text for spoken in greeting(words, practice.name, Office.now(practice)))


def language_offers(words: Scripts) -> tuple[Say, ...]:
    """"Para español, oprima nueve", each in its own language and voice."""
    return tuple(say(words.in_language(language.code), "language_offer", digits=LANGUAGE_KEY)
                 for language in words.languages if language.code != words.language)


def answer_call(practice: Practice, call: CallEvent) -> Script:
    """A new call: greeting, emergency line, then the front desk or the menu."""
    Call.objects.get_or_create(call_sid=call.call_sid, defaults={
        "practice": practice, "caller": valid_number(call.caller)})
    words, office = words_of(practice), Office.now(practice)
    if practice.front_desk_number and office.open:
        return (*greeting(words, practice.name, office), say(words, "front_desk_hold"),
                Dial(practice.front_desk_number, step_of(words, "front-desk"),
                     DIAL_TIMEOUT_S))
    return (*greeting(words, practice.name, office), *menu(practice, words, tries=1))


def fallback(practice_name: str) -> Script:
    """What the caller hears when answering the call failed: the emergency line and the
    practice's general voicemail. It needs nothing but the name: no query can fail it."""
    words = shipped()
    return (*greeting(words, practice_name), say(words, "voicemail_greeting", call_type=""),
            Record(Step.of(RECORDED), Step.of(READY), VOICEMAIL_S))


def unavailable(practice_name: str, fallback_phone: str) -> Script:
    """What a caller hears when the practice's records cannot be reached (a database
    outage): the emergency line, that no message can be taken now, and the fallback phone
    when there is one. Built from two strings and the shipped scripts: no query."""
    words = shipped()
    welcome = greeting(words, practice_name) if practice_name else (say(words, "emergency"),)
    sorry = Say("We are sorry, we cannot take messages right now.")
    if not fallback_phone:
        return (*welcome, sorry, Say("Please call again in a few minutes."), Hangup())
    return (*welcome, sorry, Say("Please hold while we connect you."),
            Dial(fallback_phone, Step.of(UNAVAILABLE_DIALLED), DIAL_TIMEOUT_S))


def goodbye(words: Scripts | None = None) -> Script:
    return (say(words or shipped(), "closing"), Hangup())


def menu(practice: Practice, words: Scripts, tries: int) -> Script:
    types = call_types_for(practice)
    step = step_of(words, "menu", v=types.version, attempt=tries)
    spoken = [say(words, "menu_urgent", digits=URGENT_KEY)]
    spoken += [say(words, "menu_item", call_type=words.label(t.slug, t.label), digits=key)
               for key, t in choices(types).items()]
    # No key before the timeout: the same step again, without digits.
    return (Gather((*spoken, *language_offers(words)), step, MENU_TIMEOUT_S, num_digits=1),
            Redirect(step))


def front_desk(practice: Practice, call: CallEvent, step: Step) -> Script:
    """The forwarded call ended: done if the front desk answered, else the menu."""
    if call.dial_status in ANSWERED:
        return (Hangup(),)
    words = words_of(practice, step)
    return (say(words, "front_desk_unavailable"), *menu(practice, words, tries=1))


def menu_choice(practice: Practice, call: CallEvent, step: Step) -> Script:
    words, types = words_of(practice, step), call_types(practice, step.number("v"))
    tries, digits = step.number("attempt", 1), call.digits
    if digits == URGENT_KEY:
        return callback_prompt(words, tries=1)
    if digits == LANGUAGE_KEY and len(words.languages) > 1:
        other = next(lang.code for lang in words.languages if lang.code != words.language)
        return menu(practice, words.in_language(other), tries=1)
    chosen = choices(types).get(digits)
    if chosen is not None:
        return voicemail_prompt(words, chosen)
    if tries >= (MENU_TRIES if digits else SILENT_TRIES):
        return (say(words, "menu_gave_up"), *voicemail_prompt(words, types.general))
    return (say(words, "menu_not_a_choice" if digits else "menu_no_choice"),
            *menu(practice, words, tries + 1))


def callback_prompt(words: Scripts, tries: int) -> Script:
    step = step_of(words, "callback", attempt=tries)
    # Only pound, or nothing: the number calling.
    return (Gather((say(words, "callback_prompt"),), step, CALLBACK_TIMEOUT_S,
                   finish_on_key="#"), Redirect(step))


def callback(practice: Practice, call: CallEvent, step: Step) -> Script:
    """The urgent caller's number: the message opens now, before the recording."""
    words = words_of(practice, step)
    digits, tries = call.digits.strip("#"), step.number("attempt", 1)
    number = valid_number(digits)
    if digits and not number and tries < CALLBACK_TRIES:
        return (say(words, "callback_invalid"), *callback_prompt(words, tries + 1))
    types = call_types_for(practice)
    message = urgent_message(practice, words, types.urgent, call,
                             number or valid_number(call.caller))
    name, slots = read_back_of(practice, words, message)
    read_back = say(words, name, **slots)
    return (read_back, say(words, "urgent_prompt"),
            Record(step_of(words, "urgent-recorded"),
                   step_of(words, READY, type=types.urgent.slug, v=types.version),
                   URGENT_RECORD_S),
            read_back, *goodbye(words))


def read_back_of(practice: Practice, words: Scripts,
                 message: Message | None) -> tuple[str, dict[str, object]]:
    """The urgent line's promise (a script's name and slots): the on-call provider calls
    back within the practice's minutes, said only once the message's page is open."""
    if message is None:
        return "read_back_urgent", {}
    return promise(words, practice, message, Office.now(practice))


def voicemail_prompt(words: Scripts, chosen: CallType) -> Script:
    ready = step_of(words, READY, type=chosen.slug, v=chosen.version)
    return (say(words, "voicemail_greeting", call_type=words.label(chosen.slug, chosen.label)),
            Record(step_of(words, RECORDED, type=chosen.slug, v=chosen.version), ready,
                   VOICEMAIL_S),
            say(words, "no_recording"), *goodbye(words))


def recorded(practice: Practice, call: CallEvent, step: Step) -> Script:
    """A voicemail's record action: its message, in the chosen type's queue."""
    words = words_of(practice, step)
    voicemail_message(practice, call.call_sid, step, call.recording_sid)
    return (say(words, "message_sent"), *goodbye(words))


def urgent_recorded(practice: Practice, call: CallEvent, step: Step) -> Script:
    words = words_of(practice, step)
    link_recording(practice, call.call_sid, call.recording_sid)
    return live_transfer(practice, words, call) or read_back_and_goodbye(practice, words, call)


def read_back_and_goodbye(practice: Practice, words: Scripts, call: CallEvent) -> Script:
    name, slots = read_back_of(practice, words, message_of_call(practice, call.call_sid))
    return (say(words, name, **slots), *goodbye(words))


def live_transfer(practice: Practice, words: Scripts, call: CallEvent) -> Script:
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
    return (say(words, "transfer_hold"),
            Dial(number, step_of(words, TRANSFERRED), practice.transfer_timeout_s,
                 whisper=whisper, caller_id=call.called))


def transfer_ended(practice: Practice, call: CallEvent, step: Step) -> Script:
    """Connected (the provider took the call by its whisper) and done: goodbye. Otherwise
    the caller hears the truth: nobody was reached, and the read-back's promise again."""
    words = words_of(practice, step)
    page = pages.page_of(message) if (message := message_of_call(
        practice, call.call_sid)) else None
    if call.dial_status in ANSWERED and voice_page.transferred(page):
        return goodbye(words)
    return (say(words, "transfer_failed"), *read_back_and_goodbye(practice, words, call))


STEPS: dict[str, Callable[[Practice, CallEvent, Step], Script]] = {
    "menu": menu_choice, "callback": callback, RECORDED: recorded,
    "urgent-recorded": urgent_recorded, "front-desk": front_desk,
    TRANSFERRED: transfer_ended}


def continue_call(practice: Practice, call: CallEvent, step: Step) -> Script:
    """The step a call's request names. An unknown step (a stale or hand-made URL) hears
    the menu again."""
    handler = STEPS.get(step.name)
    if handler is None:
        return menu(practice, words_of(practice, step), tries=1)
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


def urgent_message(practice: Practice, words: Scripts, chosen: CallType, call: CallEvent,
                   number: str) -> Message:
    with transaction.atomic():
        lock_call(practice, call.call_sid)
        message = message_of_call(practice, call.call_sid)
        if message is not None:
            return message
        message = take_message(practice, chosen, {"callback_number": number},
                               source=Source.IVR, caller_number=call.caller,
                               call_sid=call.call_sid, floor="urgent",
                               floor_rule="ivr-urgent",
                               said=heard_greeting(practice, words),
                               scripts_version=words.version, language=words.language)
        # The read-back is said next, and what it promises depends on the page just opened
        # (or not): the record gets the words the caller is about to hear.
        name, slots = read_back_of(practice, words, message)
        message.triage = {**message.triage,
                          "said": [*message.triage.get("said", []), words.spoken(name, **slots)]}
        message.save(update_fields=["triage"])
        return message


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
            words = words_of(practice, step)
            message = take_message(practice, chosen, {"callback_number": caller},
                                   source=Source.VOICEMAIL, caller_number=caller,
                                   call_sid=call_sid,
                                   said=heard_greeting(practice, words),
                                   scripts_version=words.version, language=words.language)
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
