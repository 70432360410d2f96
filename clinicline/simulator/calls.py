"""What a virtual phone does: text the practice, call it, answer the practice's call (or let
the answering machine take it), press keys, wait, hear a forwarded line answer or not,
leave a voicemail, hang up. Each is the carrier's request (``carrier``)
logged on the phone's history (``history``), and the practice's TwiML answer read back
(``twiml``) — and followed through ``<Redirect>``s, as Twilio does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from clinicline.practices.models import GatewayAccount
from clinicline.simulator import history, speech
from clinicline.simulator.carrier import (
    SimulationRefused,
    base_params,
    call_params,
    next_path,
    post_webhook,
    sid,
)
from clinicline.simulator.history import FROM_PHONE, TO_PHONE, LiveCall, Ringing
from clinicline.simulator.twiml import Answer, parse_answer

MAX_REDIRECTS = 3
NOT_GATHERING = "The practice is not waiting for keys on this call."


def text_practice(account: GatewayAccount, number: str, body: str) -> list[str]:
    """Send a text; returns the practice's immediate replies (<Message>), also logged."""
    message_sid = sid("SM")
    history.log_event(account.practice_id, number, FROM_PHONE, history.SMS, body, message_sid)
    params = base_params(account, number) | {
        "MessageSid": message_sid, "SmsSid": message_sid, "SmsMessageSid": message_sid,
        "SmsStatus": "received", "Body": body, "NumMedia": "0", "NumSegments": "1"}
    path = reverse("gateways:twilio_sms")
    replies = parse_answer(post_webhook(account, path, params), path).texts
    for reply in replies:
        history.log_event(account.practice_id, number, TO_PHONE, history.SMS, reply,
                          message_sid)
    return replies


def call_practice(account: GatewayAccount, number: str) -> Answer:
    call_sid = sid("CA")
    history.log_event(account.practice_id, number, FROM_PHONE, history.CALL, "", call_sid)
    return converse(account, number, call_sid, reverse("gateways:twilio_voice"),
                    call_params(account, number, call_sid, "ringing"))


def answer_call(account: GatewayAccount, number: str, ring: Ringing, human: bool) -> Answer:
    """Pick up the practice's call (or let the answering machine take it): Twilio requests
    the call's URL (the page webhook and the delivery's step, as the Twilio transport
    gives it) saying who answered, and the answer drives the call from there."""
    history.log_event(account.practice_id, number, FROM_PHONE, history.ANSWER,
                      "a person" if human else "the answering machine", ring.sid)
    path = f"{reverse('gateways:twilio_page')}?{ring.delivery.call_step}"
    params = call_params(account, number, ring.sid, "in-progress", outbound=True) | {
        "AnsweredBy": "human" if human else "machine_start"}
    return converse(account, number, ring.sid, path, params)


def press_keys(account: GatewayAccount, number: str, call: LiveCall,
               digits: str) -> Answer | None:
    if call.answer.gather is None:
        raise SimulationRefused(409, NOT_GATHERING)
    history.log_event(account.practice_id, number, FROM_PHONE, history.KEYS, digits, call.sid)
    digits = gathered(call.answer, digits)
    if not digits:  # only the finish key: Twilio goes on as if nothing was pressed
        return silence(account, number, call, logged=True)
    params = call_params(account, number, call.sid, "in-progress", call.outbound) | {
        "Digits": digits}
    return converse(account, number, call.sid,
                    next_path(call.answer.document, call.answer.gather), params)


def gathered(answer: Answer, keys: str) -> str:
    """The Digits Twilio would send: up to the finish key (left out), at most numDigits."""
    if answer.finish_on_key and answer.finish_on_key in keys:
        keys = keys[: keys.index(answer.finish_on_key)]
    return keys[: answer.num_digits] if answer.num_digits else keys


def silence(account: GatewayAccount, number: str, call: LiveCall,
            logged: bool = False) -> Answer | None:
    """The caller presses nothing until the <Gather> times out: Twilio carries on with the
    verbs after it (a <Redirect>, usually); with none left, the call ends."""
    if call.answer.gather is None:
        raise SimulationRefused(409, NOT_GATHERING)
    if not logged:
        history.log_event(account.practice_id, number, FROM_PHONE, history.KEYS, "", call.sid)
    if not call.answer.redirect:
        hang_up(account, number, call)
        return None
    params = call_params(account, number, call.sid, "in-progress", call.outbound)
    return converse(account, number, call.sid,
                    next_path(call.answer.document, call.answer.redirect), params)


def dial_ended(account: GatewayAccount, number: str, call: LiveCall,
               answered: bool) -> Answer:
    """The line the practice forwarded to answered (and the talk ended) or did not."""
    if call.answer.dial is None:
        raise SimulationRefused(409, "The practice is not forwarding this call.")
    history.log_event(account.practice_id, number, FROM_PHONE, history.LINE,
                      "the other line answered" if answered else "nobody answered", call.sid)
    params = call_params(account, number, call.sid, "in-progress", call.outbound) | {
        "DialCallStatus": "completed" if answered else "no-answer",
        "DialCallDuration": "30" if answered else "0"}
    return converse(account, number, call.sid,
                    next_path(call.answer.document, call.answer.dial), params)


def converse(account: GatewayAccount, number: str, call_sid: str, path: str,
             params: dict[str, str]) -> Answer:
    """Post one step of a call, log the answer, and follow <Redirect>s as Twilio does."""
    for _ in range(MAX_REDIRECTS + 1):
        twiml = post_webhook(account, path, params)
        answer = history.log_answer(account.practice_id, number, call_sid, path, twiml)
        if answer.waits or not answer.redirect:
            return answer
        path = next_path(path, answer.redirect)
        params = {**params, "CallStatus": "in-progress"}
    raise SimulationRefused(502, f"The practice redirected the call more than {MAX_REDIRECTS} "
                                 "times in a row.")


def hang_up(account: GatewayAccount, number: str, call: LiveCall) -> None:
    history.log_event(account.practice_id, number, FROM_PHONE, history.HANGUP, "", call.sid)


@dataclass
class Voicemail:
    file: Path
    duration_s: int
    spoken: bool        # False: no speech engine could speak, the audio is silence
    answer: Answer | None  # what the practice said after the recording, if it was asked
    looped: bool = False   # the <Record> had no action (see leave_voicemail)


def leave_voicemail(account: GatewayAccount, number: str, call: LiveCall,
                    words: str, hang_up_after: bool = False) -> Voicemail:
    """Speak ``words`` into a WAV file, then tell the practice about the recording as
    Twilio would: the recording status callback, then the <Record>'s action — unless the
    caller hangs up at the end of the recording, when only the callback arrives."""
    record = call.answer.record
    if record is None:
        raise SimulationRefused(409, "The practice is not taking a voicemail on this call.")
    audio, spoken = speech.speak(words, Path(settings.DATA_DIR) / "simulator",
                                 call.answer.language)
    limit = record.get("maxLength", "")
    duration = min(speech.wav_seconds(audio), int(limit) if limit.isdigit() else 3600)
    history.log_event(account.practice_id, number, FROM_PHONE, history.RECORD, words, call.sid)
    recording = recording_params(account, audio, duration)
    if callback := record.get("recordingStatusCallback"):
        # As Twilio sends it: the account and the call, no From or To.
        post_webhook(account, next_path(call.answer.document, callback),
                     {"AccountSid": account.account_sid, "CallSid": call.sid} | recording)
    if hang_up_after or not record.get("action"):
        # Without an action Twilio would fetch the call's current document again — an answer
        # that loops back to the same <Record>. The caller hangs up, and the page says why.
        hang_up(account, number, call)
        return Voicemail(audio, duration, spoken, None, looped=not hang_up_after)
    params = call_params(account, number, call.sid, "in-progress") | recording | {"Digits": "#"}
    answer = converse(account, number, call.sid,
                      next_path(call.answer.document, record["action"]), params)
    return Voicemail(audio, duration, spoken, answer)


def recording_params(account: GatewayAccount, audio: Path, duration: int) -> dict[str, str]:
    """A recording as Twilio describes it; its URL names the simulator's file, which the
    recordings worker reads from DATA_DIR/simulator (``loopback://<practice slug>/<file>``)."""
    return {"RecordingSid": sid("RE"),
            "RecordingUrl": f"loopback://{account.practice.slug}/{audio.name}",
            "RecordingDuration": str(duration), "RecordingStatus": "completed",
            "RecordingChannels": "1", "RecordingSource": "RecordVerb"}
