"""The phone simulator's side of the wire: it plays Twilio.

Every text, call, key press and voicemail becomes the request Twilio would send — the same
parameters, signed with the practice's auth token — and goes through the whole Django stack
in-process (middleware, URL routing, signature check, idempotency, the registered handlers).
What the practice answers (TwiML) is read back the way a caller would hear it.

Only a test-mode account is ever signed for: the simulator must never become a signing
oracle for a live account's token.
"""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
import subprocess
import sys
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit
from xml.etree import ElementTree

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.urls import Resolver404, resolve, reverse
from twilio.request_validator import RequestValidator

from clinicline.gateways.models import SimulatorEvent
from clinicline.patients.models import BY_PHONE
from clinicline.practices.models import GatewayAccount, Practice
from clinicline.vault.blind import blind_index

log = logging.getLogger("clinicline.gateways.simulator")

API_VERSION = "2010-04-01"
MAX_REDIRECTS = 3
# What the simulator logs for each thing a virtual phone does or hears (SimulatorEvent.kind).
SMS, CALL, KEYS, SAY = "sms", "call", "keys", "say"
RECORD, HANGUP, OPEN, LINE = "record", "hangup", "open", "line"
CALL_KINDS = (CALL, KEYS, SAY, RECORD, HANGUP, LINE)
FROM_PHONE = SimulatorEvent.Direction.FROM_PHONE
TO_PHONE = SimulatorEvent.Direction.TO_PHONE
LIVE_ACCOUNT = ("This practice's gateway is live. The simulator only signs requests for a "
                "test-mode account, so it never holds a live account's signing key.")
SILENCE_S = 1


class SimulationRefused(Exception):
    """The simulator will not (or could not) do what was asked; ``status`` for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


# --- the wire ------------------------------------------------------------------------------

def post_webhook(account: GatewayAccount, path: str, params: dict[str, str]) -> str:
    """POST ``params`` to ``path`` as Twilio would; returns the answer's body (TwiML)."""
    if not account.test_mode:
        raise SimulationRefused(403, LIVE_ACCOUNT)
    site = settings.SITE_URL.rstrip("/")
    signature = RequestValidator(account.auth_token).compute_signature(site + path, params)
    request = WSGIRequest(wsgi_environ(path, urlencode(params).encode(), signature))
    # The handler's get_response, not its __call__: __call__ also fires request_started and
    # request_finished, whose close_old_connections would close the database connection that
    # the member's own request (which is running this) is still using.
    response = WSGIHandler().get_response(request)
    body = response.content.decode("utf-8", "replace")
    if response.status_code != 200:
        # Webhook refusals are short, PHI-free plain text ("Missing CallSid.").
        raise SimulationRefused(502, f"The practice's webhook answered {response.status_code}: "
                                     f"{body[:200]}")
    return body


def wsgi_environ(path: str, body: bytes, signature: str) -> dict[str, Any]:
    """A WSGI environ for a form POST to ``path`` at the public address Twilio would use."""
    site = urlsplit(settings.SITE_URL)
    route, _, query = path.partition("?")
    secure = site.scheme == "https"
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
        "SERVER_NAME": site.hostname or "localhost",
        "SERVER_PORT": str(site.port or (443 if secure else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": site.netloc, "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_TWILIO_SIGNATURE": signature, "HTTP_USER_AGENT": "clinicline phone simulator",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.url_scheme": site.scheme or "http", "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def webhook_path(url: str) -> str:
    """The local path of a URL from a practice's answer; the simulator calls only our own
    Twilio webhooks, never another server or another page of this one."""
    site = settings.SITE_URL.rstrip("/")
    absolute = urljoin(site + "/", url)
    if not absolute.startswith(site + "/"):
        raise SimulationRefused(502, "The practice's answer sends the call to another server.")
    path = absolute[len(site):]
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        match = None
    if match is None or match.namespace != "gateways":
        raise SimulationRefused(502, "The practice's answer sends the call to a page that is "
                                     "not a Twilio webhook.")
    return path


# --- what the practice said ------------------------------------------------------------------

@dataclass
class Step:
    """One verb of an answer, as the caller experiences it."""

    verb: str   # say, menu, play, dial, record, redirect, hangup, other
    text: str = ""


@dataclass
class Answer:
    document: str                       # the path that gave this answer
    steps: list[Step] = field(default_factory=list)
    gather: str | None = None           # where pressed keys go
    num_digits: int | None = None
    finish_on_key: str = "#"            # ends the keys; Twilio leaves it out of Digits
    dial: str | None = None             # where the end of a <Dial> is reported
    record: dict[str, str] | None = None  # the <Record> verb's attributes
    redirect: str | None = None
    texts: list[str] = field(default_factory=list)  # <Message> replies to a text

    @property
    def waits(self) -> bool:
        return self.gather is not None or self.record is not None or self.dial is not None


def parse_answer(twiml: str, document: str) -> Answer:
    answer = Answer(document)
    if not twiml.strip():
        return answer
    try:
        # Our own server's answer, just produced in this process: not a stranger's XML.
        root = ElementTree.fromstring(twiml)  # noqa: S314
    except ElementTree.ParseError:
        answer.steps.append(Step("other", "The answer is not valid TwiML."))
        return answer
    for verb in root:
        read_verb(answer, verb)
    return answer


def read_verb(answer: Answer, verb: ElementTree.Element) -> None:
    text = " ".join((verb.text or "").split())
    if verb.tag == "Say":
        answer.steps.append(Step("say", text))
    elif verb.tag == "Gather":
        # A Gather without an action sends the keys to the document that asked for them.
        answer.gather = verb.get("action") or answer.document
        digits = verb.get("numDigits", "0")
        answer.num_digits = int(digits) if digits.isdigit() and int(digits) else None
        answer.finish_on_key = verb.get("finishOnKey", "#")
        answer.steps += [Step("menu", " ".join((s.text or "").split()))
                         for s in verb.iter("Say")]
    elif verb.tag == "Record":
        answer.record = dict(verb.attrib)
        answer.steps.append(Step("record", verb.get("maxLength", "3600")))
    elif verb.tag == "Dial":
        number = text or " ".join(n.text or "" for n in verb.iter("Number"))
        answer.steps.append(Step("dial", number.strip()))
        # With an action, Twilio reports how the dialled call ended there; the simulator's
        # caller says whether the other line answered.
        answer.dial = verb.get("action")
    elif verb.tag == "Redirect":
        answer.redirect = text
        answer.steps.append(Step("redirect"))
    elif verb.tag in ("Hangup", "Reject"):
        answer.steps.append(Step("hangup"))
    elif verb.tag == "Message":
        answer.texts.append(" ".join("".join(verb.itertext()).split()))
    elif verb.tag == "Play":
        answer.steps.append(Step("play"))
    elif verb.tag != "Pause":
        answer.steps.append(Step("other", verb.tag))


def answer_of(event: SimulatorEvent) -> Answer | None:
    """The answer a "say" row logged, or None if the row is not one."""
    try:
        logged = json.loads(event.body)
        return parse_answer(logged["twiml"], logged["document"])
    except (ValueError, KeyError, TypeError):
        return None


# --- the log ---------------------------------------------------------------------------------

def log_event(practice: Practice, number: str, direction: str, kind: str, body: str = "",
              sid: str = "") -> SimulatorEvent:
    """One line of a virtual phone's history. ``sid`` is the provider's id of the exchange
    (the CallSid of a call, the MessageSid of a text)."""
    return SimulatorEvent.objects.create(
        practice=practice, number=number, direction=direction, kind=kind, body=body,
        number_index=blind_index(practice.pk, BY_PHONE, number), call_sid=sid)


@dataclass
class LiveCall:
    sid: str
    answer: Answer


def current_call(practice: Practice, token: str) -> LiveCall | None:
    """The call this phone is on: its last call event is an answer that waits for keys or
    a voicemail. Outbound calls from the loopback transport only play a script."""
    last = (SimulatorEvent.objects.for_practice(practice)
            .filter(number_index=token, kind__in=CALL_KINDS)
            .exclude(direction=TO_PHONE, kind=CALL).order_by("-created_at").first())
    if last is None or last.kind != SAY:
        return None
    answer = answer_of(last)
    return LiveCall(last.call_sid, answer) if answer is not None and answer.waits else None


# --- what a phone does -------------------------------------------------------------------------

def base_params(account: GatewayAccount, number: str) -> dict[str, str]:
    return {"AccountSid": account.account_sid, "ApiVersion": API_VERSION,
            "From": number, "To": account.phone_number}


def call_params(account: GatewayAccount, number: str, call_sid: str,
                status: str) -> dict[str, str]:
    return base_params(account, number) | {
        "CallSid": call_sid, "CallStatus": status, "Direction": "inbound",
        "Caller": number, "Called": account.phone_number}


def text_practice(account: GatewayAccount, number: str, body: str) -> list[str]:
    """Send a text; returns the practice's immediate replies (<Message>), also logged."""
    message_sid = sid("SM")
    log_event(account.practice, number, FROM_PHONE, SMS, body, message_sid)
    params = base_params(account, number) | {
        "MessageSid": message_sid, "SmsSid": message_sid, "SmsMessageSid": message_sid,
        "SmsStatus": "received", "Body": body, "NumMedia": "0", "NumSegments": "1"}
    replies = parse_answer(post_webhook(account, reverse("gateways:twilio_sms"), params),
                           reverse("gateways:twilio_sms")).texts
    for reply in replies:
        log_event(account.practice, number, TO_PHONE, SMS, reply, message_sid)
    return replies


def call_practice(account: GatewayAccount, number: str) -> Answer:
    call_sid = sid("CA")
    log_event(account.practice, number, FROM_PHONE, CALL, "", call_sid)
    return converse(account, number, call_sid, reverse("gateways:twilio_voice"),
                    call_params(account, number, call_sid, "ringing"))


def press_keys(account: GatewayAccount, number: str, call: LiveCall, digits: str) -> Answer:
    if call.answer.gather is None:
        raise SimulationRefused(409, "The practice is not waiting for keys on this call.")
    log_event(account.practice, number, FROM_PHONE, KEYS, digits, call.sid)
    digits = gathered(call.answer, digits)
    if not digits:  # only the finish key: Twilio goes on as if nothing was pressed
        return silence(account, number, call, logged=True)
    params = call_params(account, number, call.sid, "in-progress") | {"Digits": digits}
    return converse(account, number, call.sid,
                    webhook_path(urljoin(call.answer.document, call.answer.gather)), params)


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
        raise SimulationRefused(409, "The practice is not waiting for keys on this call.")
    if not logged:
        log_event(account.practice, number, FROM_PHONE, KEYS, "", call.sid)
    if not call.answer.redirect:
        log_event(account.practice, number, FROM_PHONE, HANGUP, "", call.sid)
        return None
    params = call_params(account, number, call.sid, "in-progress")
    return converse(account, number, call.sid,
                    webhook_path(urljoin(call.answer.document, call.answer.redirect)), params)


def dial_ended(account: GatewayAccount, number: str, call: LiveCall,
               answered: bool) -> Answer:
    """The line the practice forwarded to answered (and the talk ended) or did not."""
    if call.answer.dial is None:
        raise SimulationRefused(409, "The practice is not forwarding this call.")
    status = "completed" if answered else "no-answer"
    log_event(account.practice, number, FROM_PHONE, LINE,
              "the other line answered" if answered else "nobody answered", call.sid)
    params = call_params(account, number, call.sid, "in-progress") | {
        "DialCallStatus": status, "DialCallDuration": "30" if answered else "0"}
    return converse(account, number, call.sid,
                    webhook_path(urljoin(call.answer.document, call.answer.dial)), params)


def converse(account: GatewayAccount, number: str, call_sid: str, path: str,
             params: dict[str, str]) -> Answer:
    """Post one step of a call, log the answer, and follow <Redirect>s as Twilio does."""
    for _ in range(MAX_REDIRECTS + 1):
        twiml = post_webhook(account, path, params)
        log_event(account.practice, number, TO_PHONE, SAY,
                  json.dumps({"document": path, "twiml": twiml}), call_sid)
        answer = parse_answer(twiml, path)
        if answer.waits or not answer.redirect:
            return answer
        path = webhook_path(urljoin(path, answer.redirect))
        params = {**params, "CallStatus": "in-progress"}
    raise SimulationRefused(502, f"The practice redirected the call more than {MAX_REDIRECTS} "
                                 "times in a row.")


def hang_up(account: GatewayAccount, number: str, call: LiveCall) -> None:
    log_event(account.practice, number, FROM_PHONE, HANGUP, "", call.sid)


@dataclass
class Voicemail:
    file: Path
    duration_s: int
    spoken: bool        # False: espeak-ng was missing or failed, the audio is silence
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
    practice = account.practice
    audio, spoken = speak(words, Path(settings.DATA_DIR) / "simulator")
    limit = record.get("maxLength", "")
    duration = min(wav_seconds(audio), int(limit) if limit.isdigit() else 3600)
    log_event(practice, number, FROM_PHONE, RECORD, words, call.sid)
    recording = {"RecordingSid": sid("RE"), "RecordingUrl": f"loopback://{practice.slug}/"
                 f"{audio.name}", "RecordingDuration": str(duration),
                 "RecordingStatus": "completed", "RecordingChannels": "1",
                 "RecordingSource": "RecordVerb"}
    if callback := record.get("recordingStatusCallback"):
        # As Twilio sends it: the account and the call, no From or To.
        post_webhook(account, webhook_path(urljoin(call.answer.document, callback)),
                     {"AccountSid": account.account_sid, "CallSid": call.sid} | recording)
    if hang_up_after:
        hang_up(account, number, call)
        return Voicemail(audio, duration, spoken, None)
    if not record.get("action"):
        # Twilio would now fetch the call's current document again — an answer that loops
        # back to the same <Record>. The caller hangs up instead, and the page says why.
        hang_up(account, number, call)
        return Voicemail(audio, duration, spoken, None, looped=True)
    params = call_params(account, number, call.sid, "in-progress") | recording | {"Digits": "#"}
    answer = converse(account, number, call.sid,
                      webhook_path(urljoin(call.answer.document, record["action"])), params)
    return Voicemail(audio, duration, spoken, answer)


# --- audio -----------------------------------------------------------------------------------

# Speech engines, best first. flite's "kal" voice speaks at 8 kHz, as a phone line does, and
# the offline recogniser understands it well; espeak-ng's formant voice it mostly does not.
VOICES = (("flite", ["-voice", "kal", "-o", "{path}"]),
          ("espeak-ng", ["-v", "en-us", "-s", "130", "-w", "{path}", "--stdin"]))


def speak(words: str, folder: Path) -> tuple[Path, bool]:
    """The words as speech in a new WAV file; silence when no engine can speak them."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}.wav"
    for name, args in VOICES:
        program = shutil.which(name)
        if not program:
            continue
        try:
            # The words go in on stdin: a message starting with "-" is not an option.
            subprocess.run([program, *(a.format(path=path) for a in args)],  # noqa: S603
                           input=words.encode(), capture_output=True, check=True, timeout=60)
            path.chmod(0o600)  # a caller's words, in the clear until the worker seals them
            return path, True
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s failed (%s)", name, type(exc).__name__)
    write_silence(path)
    path.chmod(0o600)
    return path, False


def write_silence(path: Path, seconds: int = SILENCE_S, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * rate * seconds)


def wav_seconds(path: Path) -> int:
    with wave.open(str(path), "rb") as audio:
        return max(1, math.ceil(audio.getnframes() / audio.getframerate()))
