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

from clinicline.gateways.twiml import call_view
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
from clinicline.simulator.models import SimulatorEvent
from clinicline.simulator.twiml import Answer, parse_answer

MAX_REDIRECTS = 3
BRIDGE = "bridge of "  # the line event that ties a whisper's leg to the caller's call
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
    path = f"{reverse(call_view(ring.delivery.purpose))}?{ring.delivery.call_step}"
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
    answer = converse(account, number, call.sid,
                      next_path(call.answer.document, call.answer.gather), params)
    settle_whisper(account, number, call.sid, answer)
    return answer


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
    answer = converse(account, number, call.sid,
                      next_path(call.answer.document, call.answer.redirect), params)
    settle_whisper(account, number, call.sid, answer)
    return answer


def dial_ended(account: GatewayAccount, number: str, call: LiveCall,
               answered: bool) -> Answer:
    """The line the practice forwarded to answered (and the talk ended) or did not. A dial
    that whispers first (a live transfer) rings the other phone instead: its whisper
    decides, on that phone's own page (``settle_whisper``)."""
    if call.answer.dial is None:
        raise SimulationRefused(409, "The practice is not forwarding this call.")
    if answered and call.answer.whisper and call.answer.dialled:
        return whisper(account, number, call)
    history.log_event(account.practice_id, number, FROM_PHONE, history.LINE,
                      "the other line answered" if answered else "nobody answered", call.sid)
    return end_dial(account, number, call.sid, call.answer, answered, call.outbound)


def end_dial(account: GatewayAccount, number: str, call_sid: str, answer: Answer,
             answered: bool, outbound: bool) -> Answer:
    """Twilio reports how the dial ended to its action, and the call goes on there."""
    if answer.dial is None:
        raise SimulationRefused(409, "The practice is not forwarding this call.")
    params = call_params(account, number, call_sid, "in-progress", outbound) | {
        "DialCallStatus": "completed" if answered else "no-answer",
        "DialCallDuration": "30" if answered else "0"}
    return converse(account, number, call_sid, next_path(answer.document, answer.dial), params)


def whisper(account: GatewayAccount, number: str, call: LiveCall) -> Answer:
    """The dialled phone picks up: Twilio plays it the whisper (its own leg of the call,
    from the practice's number) while the caller waits on the dial."""
    # (Nothing is logged on the caller's phone yet: it is still on the dial.)
    callee, leg = call.answer.dialled, sid("CA")
    history.log_event(account.practice_id, callee, TO_PHONE, history.CALL,
                      "The practice is connecting a caller to you.", leg)
    history.log_event(account.practice_id, callee, FROM_PHONE, history.ANSWER, "a person",
                      leg)
    # Which call the leg belongs to: the caller's number and call, for when it ends.
    history.log_event(account.practice_id, callee, FROM_PHONE, history.LINE,
                      f"{BRIDGE}{call.sid} {number}", leg)
    params = call_params(account, callee, leg, "in-progress", outbound=True) | {
        "Direction": "outbound-dial", "ParentCallSid": call.sid}
    answer = converse(account, callee, leg, next_path(call.answer.document,
                                                      call.answer.whisper or ""), params)
    settle_whisper(account, callee, leg, answer)
    return answer


def settle_whisper(account: GatewayAccount, number: str, leg: str, answer: Answer) -> None:
    """A whisper that has finished: its document ended without hanging up, so Twilio
    connects the two phones (and the talk ends); or it hung up. Nothing while it still
    waits, and nothing for any call that is not a whisper's leg."""
    if not answer.waits:
        end_bridge(account, number, leg,
                   connected=not any(step.verb == "hangup" for step in answer.steps))


def end_bridge(account: GatewayAccount, number: str, leg: str, *, connected: bool) -> None:
    """The caller's dial ends: the provider took the call, or the other line hung up."""
    # (Bodies are sealed: read in Python, never matched in SQL.)
    lines = SimulatorEvent.objects.filter(practice_id=account.practice_id, call_sid=leg,
                                          kind=history.LINE, direction=FROM_PHONE)
    link = next((e.body for e in lines if e.body.startswith(BRIDGE)), None)
    if link is None:
        return
    parent_sid, _, caller = link.removeprefix(BRIDGE).partition(" ")
    parent = history.current_call(account.practice, history.number_index(
        account.practice_id, caller))
    if parent is None or parent.sid != parent_sid or parent.answer.dial is None:
        return  # the caller hung up meanwhile
    said = "the provider took the call" if connected else "the other line hung up"
    history.log_event(account.practice_id, caller, FROM_PHONE, history.LINE, said, parent_sid)
    if connected:
        history.log_event(account.practice_id, number, FROM_PHONE, history.HANGUP,
                          "connected to the caller; the talk ended", leg)
    end_dial(account, caller, parent_sid, parent.answer, True, parent.outbound)


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
    end_bridge(account, number, call.sid, connected=False)  # if it was a whisper's leg


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
