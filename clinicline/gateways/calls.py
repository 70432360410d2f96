"""The voice webhooks, as the domain's calls: a new call, each step after it, a recording
ready at the carrier, and the calls we make about a page or to remind a patient. Each
reads Twilio's parameters into ``outbox.voice`` values, calls the IVR (``intake.ivr``),
the voice page (``oncall.voice``) or the outreach call (``outreach.voice``) and renders
its script as TwiML."""

from __future__ import annotations

from django.utils import timezone

from clinicline.gateways import recordings, twiml
from clinicline.gateways.inbound import DURATION, E164, SID, Inbound
from clinicline.inbox.models import Recording
from clinicline.inbox.recordings import RecordingError
from clinicline.intake import ivr, reschedule
from clinicline.oncall import voice as voice_page
from clinicline.outbox.voice import CallEvent, Hangup
from clinicline.outreach import voice as outreach_voice
from clinicline.practices import voice_fallback

# What Twilio's answering machine detection says (``AnsweredBy``); anything else is "".
ANSWERED_BY = frozenset({"human", "machine_start", "machine_end_beep", "machine_end_silence",
                         "machine_end_other", "fax", "unknown"})


def call_event(params: dict[str, str]) -> CallEvent:
    caller, called = params.get("From", ""), params.get("To", "")
    recording_sid = params.get("RecordingSid", "")
    answered_by = params.get("AnsweredBy", "")
    return CallEvent(call_sid=params.get("CallSid", ""),
                     caller=caller if E164.fullmatch(caller) else "",
                     called=called if E164.fullmatch(called) else "",
                     digits=params.get("Digits", "")[:32],
                     dial_status=params.get("DialCallStatus", "")[:32],
                     recording_sid=recording_sid if SID.fullmatch(recording_sid) else "",
                     answered_by=answered_by if answered_by in ANSWERED_BY else "")


def voice(inbound: Inbound) -> str:
    return twiml.voice(ivr.answer_call(inbound.practice, call_event(inbound.params)))


def gather(inbound: Inbound) -> str:
    step = twiml.step_of(inbound.path)
    return twiml.voice(ivr.continue_call(inbound.practice, call_event(inbound.params), step))


def page(inbound: Inbound) -> str:
    """A call we made about a page, and each step of it: the first request names no step
    (the call's URL is the delivery's ``call_step``)."""
    step = twiml.step_of(inbound.path, voice_page.ANSWER)
    script = voice_page.continue_page(inbound.practice, call_event(inbound.params), step)
    return twiml.voice(script, twiml.page_step_url)


def outreach(inbound: Inbound) -> str:
    """A reminder or results call of ours, and each step of it: the first request names
    no step (the call's URL is the delivery's ``call_step``)."""
    step, event = twiml.step_of(inbound.path, outreach_voice.ANSWER), call_event(inbound.params)
    script = outreach_voice.continue_call(inbound.practice, event, step)
    asked = outreach_voice.reschedule_asked(inbound.practice, event, step)
    if asked is not None:  # pressed 3: the front desk's scheduling queue calls back
        reschedule.request_message(asked, number=event.called, call_sid=event.call_sid)
    return twiml.voice(script, twiml.outreach_step_url)


def outreach_fallback(inbound: Inbound) -> str:
    """When a reminder call's step failed: hang up, having said nothing."""
    return twiml.voice((Hangup(),), twiml.outreach_step_url)


def page_fallback(inbound: Inbound) -> str:
    """When a page call's step failed: that a message is waiting, nothing more."""
    return twiml.voice(voice_page.waiting(inbound.practice.name), twiml.page_step_url)


def fallback(inbound: Inbound) -> str:
    """When answering failed (a bug, a broken row): the emergency line and the practice's
    general voicemail, from the practice's name alone; once a voicemail is left, goodbye
    (the recording callback still brings its message)."""
    if twiml.step_of(inbound.path).name == ivr.RECORDED:
        return twiml.voice(ivr.goodbye())
    return twiml.voice(ivr.fallback(inbound.practice.name))


def unavailable(number: str, path: str, dial_status: str = "") -> str:
    """The answer when the database cannot be reached, from the local fallback file alone
    (``practices.voice_fallback``): the emergency line, no messages now, the fallback phone.
    Its steps come back to the fallback URL, which needs no database either."""
    if twiml.step_of(path).name == ivr.UNAVAILABLE_DIALLED:
        done = (Hangup(),) if dial_status in ivr.ANSWERED else ivr.goodbye()
        return twiml.voice(done, twiml.fallback_step_url)
    line = voice_fallback.line_for(number) if E164.fullmatch(number) else None
    script = (ivr.unavailable(line.practice_name, line.fallback_phone) if line
              else ivr.unavailable("", ""))
    return twiml.voice(script, twiml.fallback_step_url)


def recording(inbound: Inbound) -> str:
    """A voicemail is ready at the carrier: a row the worker fetches (never fetched here,
    inside Twilio's time budget), then the IVR links it to the call's message."""
    queued = queue_recording(inbound)
    if queued is not None:
        ivr.recording_ready(inbound.practice, queued, twiml.step_of(inbound.path))
    return ""


def queue_recording(inbound: Inbound) -> Recording | None:
    params, webhook = inbound.params, inbound.webhook
    webhook.processed_at = timezone.now()
    if params.get("RecordingStatus", "completed") != "completed":
        return None
    try:
        recordings.source_for(params.get("RecordingUrl", ""), params["RecordingSid"],
                              inbound.account)
    except RecordingError as exc:
        webhook.error = str(exc)[:200]
        return None
    duration, call_sid = params.get("RecordingDuration", ""), params.get("CallSid", "")
    queued, _ = Recording.objects.get_or_create(recording_sid=params["RecordingSid"], defaults={
        "practice_id": inbound.account.practice_id,
        "call_sid": call_sid if SID.fullmatch(call_sid) else "",
        "source_url": params["RecordingUrl"],
        "duration_s": int(duration) if DURATION.fullmatch(duration) else None,
        "due_at": timezone.now()})
    # Twilio's ids are unique across accounts: one already another practice's is not ours.
    return queued if queued.practice_id == inbound.account.practice_id else None
