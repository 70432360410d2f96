"""Scripts (``outbox.voice``) in Twilio's words: TwiML, with each ``Step`` a URL of ours.

A step becomes the gather webhook's URL with the step's name and parameters in the query
(``?step=menu&v=3&attempt=2``); a recording's ``ready`` step becomes the recording
callback's URL with its parameters. Twilio signs the whole URL, so a query it posts back
is the one we wrote. The way back, ``step_of``, reads a step from the URL a request came to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.urls import reverse
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from clinicline.outbox.voice import (
    Dial,
    Gather,
    Hangup,
    Record,
    Redirect,
    Say,
    Script,
    Step,
    Verb,
)
from clinicline.outreach import voice as outreach_voice

STEP = "step"
# A query is ours to write and short; anything longer is not a step of ours.
MAX_PARAMS = 8
MAX_VALUE = 64


def step_url(step: Step, view: str = "gateways:twilio_gather") -> str:
    return f"{reverse(view)}?{urlencode({STEP: step.name, **step.params})}"


def fallback_step_url(step: Step) -> str:
    """A step of the database-free answer: back to the fallback URL, never the gather
    webhook (which needs the database)."""
    return step_url(step, "gateways:twilio_voice_fallback")


def page_step_url(step: Step) -> str:
    """A step of a call about a page: back to the page webhook, never the IVR's."""
    return step_url(step, "gateways:twilio_page")


def outreach_step_url(step: Step) -> str:
    """A step of a reminder or results call: back to the outreach webhook."""
    return step_url(step, "gateways:twilio_outreach")


def call_view(purpose: str) -> str:
    """The webhook a call of ours that asks and listens starts at, by its delivery's
    purpose: a reminder or results call's, else a page's."""
    if purpose == outreach_voice.PURPOSE:
        return "gateways:twilio_outreach"
    return "gateways:twilio_page"


def ready_url(step: Step) -> str:
    query = urlencode(dict(step.params))
    return reverse("gateways:twilio_recording") + (f"?{query}" if query else "")


def step_of(path: str, name: str = "") -> Step:
    """The step a request's URL names (its ``step`` parameter, else ``name``)."""
    pairs = parse_qsl(urlsplit(path).query)[:MAX_PARAMS]
    params = {k: v for k, v in pairs if k != STEP and len(v) <= MAX_VALUE}
    named = next((v for k, v in pairs if k == STEP), name)
    return Step(named[:MAX_VALUE], params)


def say(parent: VoiceResponse, verb: Say) -> None:
    parent.say(verb.text, language=verb.language)


def add(response: VoiceResponse, verb: Verb,
        step_url: Callable[[Step], str] = step_url) -> None:
    match verb:
        case Say():
            say(response, verb)
        case Gather():
            gather = response.gather(action=step_url(verb.action), timeout=verb.timeout_s,
                                     num_digits=verb.num_digits,
                                     finish_on_key=verb.finish_on_key)
            for spoken in verb.prompt:
                say(gather, spoken)
        case Record():
            response.record(action=step_url(verb.action), max_length=verb.max_length_s,
                            finish_on_key=verb.finish_on_key, play_beep=True,
                            recording_status_callback=ready_url(verb.ready))
        case Dial():
            dial = response.dial(action=step_url(verb.action), timeout=verb.timeout_s,
                                 caller_id=verb.caller_id or None)
            # The whisper is a step of the page webhook, whichever webhook dialled.
            dial.number(verb.number, url=page_step_url(verb.whisper) if verb.whisper else None)
        case Redirect():
            response.redirect(step_url(verb.action))
        case Hangup():
            response.hangup()


def voice(script: Script, step_url: Callable[[Step], str] = step_url) -> str:
    """The script as TwiML; ``step_url`` makes each step a URL (the gather webhook's)."""
    response = VoiceResponse()
    for verb in script:
        add(response, verb, step_url)
    return str(response)


@functools.lru_cache(maxsize=64)
def message(body: str) -> str:
    """A reply to a text: ``body``, or the empty document for no reply. (Replies are a few
    constants: each is rendered once, off the sms webhook's hot path.)"""
    response = MessagingResponse()
    if body:
        response.message(body)
    return str(response)


NO_REPLY = message("")
