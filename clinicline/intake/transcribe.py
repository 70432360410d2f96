"""Voicemail transcription, on this machine: no audio leaves it.

The worker takes each message whose recording is stored and that has no transcript yet,
opens the audio (audited), decodes the WAV and runs pocketsphinx twice: its general
English model for the transcript, then keyword spotting over spoken red-flag phrases. The
general model misses many words on phone audio; spotting the few phrases that make a call
an emergency is what a short, fixed search does well. But a spotter listening for a few
hundred phrases also "hears" some in any speech (measured on generated voicemails,
bench/voicemail_eval.py: "collapsed" in a third of routine calls), so a spotted phrase is
kept only when the transcript shares one of its words: "my chest hurt" confirms "chest
hurts", silence confirms nothing. Both go to the red-flag detector,
which reads negation ("no chest pain" is spotted as a whole and stays negated) and can
raise the message's priority, never lower it. The transcript is sealed on the message and
never logged.

Bad audio is retried with backoff (kept on the message, so a restarted worker waits too);
after ``MAX_TRIES`` the message is marked transcribed
with an empty transcript (the audio stays playable) and the failure is logged, by type only.
"""

from __future__ import annotations

import array
import dataclasses
import datetime as dt
import functools
import io
import logging
import os
import sys
import tempfile
import time
import wave
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from pocketsphinx import Decoder

from clinicline import claims
from clinicline.audit.models import Action
from clinicline.audit.service import record
from clinicline.inbox.models import Message, Recording
from clinicline.inbox.recordings import RecordingError, open_audio
from clinicline.inbox.service import append_to_message
from clinicline.intake import texts
from clinicline.oncall import pages
from clinicline.triage import service as triage
from clinicline.triage.spec import Priority

log = logging.getLogger("clinicline.intake.transcribe")

MODEL_RATE = 16000          # the bundled en-us model is wideband
WINDOW_S = 0.025625         # pocketsphinx's analysis window (wlen)
BATCH = 5
RUN_BUDGET_S = 20.0         # then the other jobs get their turn
MAX_TRIES = 5
# A decode takes seconds; a worker that dies mid-decode delays its message this long.
LEASE = dt.timedelta(minutes=10)
MAX_SECONDS = 10 * 60       # voicemails stop at two minutes; nothing longer is decoded

class AudioError(Exception):
    """The recording cannot be read as speech (not a WAV we decode, empty, too long)."""


# --- audio ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Pcm:
    samples: array.array[int]   # signed 16-bit, mono
    rate: int


def read_wav(data: bytes) -> Pcm:
    """Linear PCM WAV of any rate, width and channel count, as 16-bit mono."""
    try:
        with wave.open(io.BytesIO(data), "rb") as audio:
            channels, width, rate = (audio.getnchannels(), audio.getsampwidth(),
                                     audio.getframerate())
            # Not getnframes(): a streamed WAV's header gives no length (espeak-ng --stdout).
            limit = rate * MAX_SECONDS
            frames = audio.readframes(limit + 1)
            if len(frames) > limit * width * channels:
                raise AudioError("the recording is too long to transcribe")
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file ({type(exc).__name__})") from None
    samples = to_16_bit(frames, width)
    if channels > 1:
        samples = array.array("h", (sum(samples[i:i + channels]) // channels
                                    for i in range(0, len(samples), channels)))
    if not samples or rate < 4000:
        raise AudioError("the recording holds no audio")
    return Pcm(samples, rate)


def to_16_bit(frames: bytes, width: int) -> array.array[int]:
    if width == 2:
        samples = array.array("h", frames)
        if sys.byteorder == "big":  # WAV is little-endian
            samples.byteswap()
        return samples
    if width == 1:  # unsigned 8-bit
        return array.array("h", ((b - 128) << 8 for b in frames))
    if width in (3, 4):  # keep the two most significant bytes of each little-endian sample
        return array.array("h", (int.from_bytes(frames[i + width - 2:i + width], "little",
                                                signed=True)
                                 for i in range(0, len(frames), width)))
    raise AudioError("unsupported sample width")


def upsample(samples: array.array[int], rate: int, target: int = MODEL_RATE) -> array.array[int]:
    """Linear interpolation up to ``target`` Hz (phone audio is 8 kHz). Up, not down:
    interpolation adds no aliasing going up, and higher rates are decoded as they are."""
    if rate >= target:
        return samples
    count = len(samples) * target // rate
    step, last = rate / target, len(samples) - 1
    out = array.array("h", bytes(2 * count))
    for i in range(count):
        x = i * step
        j = int(x)
        a = samples[j]
        out[i] = a + int((samples[min(j + 1, last)] - a) * (x - j))
    return out


def nfft_for(rate: int) -> int:
    """The FFT size must hold one analysis window at this rate."""
    size = 512
    while size < WINDOW_S * rate:
        size *= 2
    return size


# --- recognition ----------------------------------------------------------------------------

def keyword_file(phrases: tuple[str, ...]) -> str:
    def line(phrase: str) -> str:
        # Longer phrases are less likely by chance, so their threshold is lower.
        return f"{phrase} /1e-{10 * len(phrase.split())}/\n"

    fd, path = tempfile.mkstemp(prefix="clinicline-kws-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.writelines(line(p) for p in phrases)
    return path


@functools.cache
def general_decoder(rate: int) -> Decoder:
    """The general decoder for a sample rate (the front end reads any rate of 16 kHz or
    more with a large enough FFT), made once per worker process."""
    return Decoder(**decoder_options(rate))


def decoder_options(rate: int) -> dict[str, Any]:
    return {"samprate": rate, "nfft": nfft_for(rate), "loglevel": "FATAL"}


def speakable(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The phrases whose every word the model can say (an unknown word would stop the
    keyword decoder from loading at all). Phrases are a protocol's, never a caller's."""
    dictionary = general_decoder(MODEL_RATE)
    known = tuple(p for p in phrases if all(dictionary.lookup_word(w) for w in p.split()))
    if len(known) < len(phrases):
        log.warning("%d spoken red-flag phrase(s) of the protocol are not in the speech "
                    "model's dictionary and are not listened for", len(phrases) - len(known))
    return known


@functools.lru_cache(maxsize=16)
def keyword_decoder(rate: int, phrases: tuple[str, ...]) -> Decoder | None:
    """Keyword spotting over a protocol's spoken phrases, made once per rate and set."""
    known = speakable(phrases)
    return Decoder(kws=keyword_file(known), **decoder_options(rate)) if known else None


def run(decoder: Decoder, pcm: Pcm) -> Decoder:
    decoder.start_utt()
    decoder.process_raw(pcm.samples.tobytes(), full_utt=True)
    decoder.end_utt()
    return decoder


def spotted(decoder: Decoder) -> list[str]:
    """Spotted phrases in time order; one inside a longer spotted phrase ("chest pain" in
    "no chest pain") is dropped, so a negation reaches the detector whole."""
    segments = sorted(((s.start_frame, s.end_frame, s.word.strip())
                       for s in decoder.seg() or []), key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int, str]] = []
    for start, end, phrase in segments:
        if any(s <= start and end <= e and phrase in p for s, e, p in kept):
            continue
        kept = [k for k in kept if not (start <= k[0] and k[1] <= end and k[2] in phrase)]
        kept.append((start, end, phrase))
    return [phrase for _, _, phrase in kept]


# Words too common to confirm a spotted phrase: a transcript has some in any sentence.
FUNCTION_WORDS = frozenset("""a about all an and are as at back be been but by call can can't
cannot did do does don't feel for from get go going got had has have he her him his how i
i'm if in is isn't it it's just know like me my need no not of off on one or our out she so
some that the their them there they this to too up very want was we were what when will
with won't you your""".split())


def confirmed(phrases: list[str], transcript: str) -> list[str]:
    """The spotted phrases that share a word, other than a function word, with the
    transcript."""
    heard = set(transcript.split()) - FUNCTION_WORDS
    return [p for p in phrases if heard.intersection(p.split())]


@dataclasses.dataclass(frozen=True)
class Heard:
    transcript: str
    phrases: list[str]

    @property
    def texts(self) -> list[str]:
        """What the red-flag detector reads: the transcript, and each spotted phrase as its
        own sentence."""
        return [self.transcript, ". ".join(self.phrases)]

    @property
    def sealed(self) -> str:
        heard = f" [phrases heard: {'; '.join(self.phrases)}]" if self.phrases else ""
        return f"{self.transcript}{heard}".strip()


def transcribe(data: bytes, phrases: tuple[str, ...]) -> Heard:
    """The transcript, and which of ``phrases`` (the protocol's spoken red flags) were
    heard, as the transcript confirms them."""
    pcm = read_wav(data)
    pcm = Pcm(upsample(pcm.samples, pcm.rate), max(pcm.rate, MODEL_RATE))
    hypothesis = run(general_decoder(pcm.rate), pcm).hyp()
    transcript = hypothesis.hypstr if hypothesis else ""
    keywords = keyword_decoder(pcm.rate, phrases)
    return Heard(transcript,
                 confirmed(spotted(run(keywords, pcm)), transcript)
                 if keywords is not None else [])


# --- the worker's job -----------------------------------------------------------------------

def claim_due(limit: int, now: dt.datetime | None = None) -> list[Message]:
    """Messages whose stored recording has no transcript yet and are not backing off, each
    leased to this worker while it decodes (outside any transaction: a row lock would hold
    up staff and escalation for the seconds a decode takes)."""
    now = now or timezone.now()
    due = (Message.objects.filter(transcribed_at__isnull=True,
                                  recording__state=Recording.State.STORED)
           .filter(Q(transcribe_due_at__isnull=True) | Q(transcribe_due_at__lte=now))
           .select_related("recording").order_by("created_at"))
    return claims.claim_due(due, limit, transcribe_due_at=now + LEASE,
                            transcribe_attempts=F("transcribe_attempts") + 1)


def transcribe_due(budget_s: float = RUN_BUDGET_S, limit: int = BATCH) -> int:
    """The worker's job: one claimed message at a time, until the budget is spent."""
    deadline = time.monotonic() + budget_s
    handled = 0
    while time.monotonic() < deadline:
        claimed = claim_due(limit=1)
        if not claimed:
            break
        handled += step(claimed[0])
    return handled


def step(message: Message) -> int:
    recording = message.recording
    assert recording is not None
    try:
        record(Action.VIEW, practice=message.practice_id, obj=message,
               patient=message.patient_id or "", fields=["recording"], reason="transcription")
        heard = transcribe(open_audio(recording), spoken_phrases(message))
    except (AudioError, RecordingError, RuntimeError, ValueError) as exc:
        failed(message, exc)
        return 0
    save(message.pk, heard)
    return 1


def spoken_phrases(message: Message) -> tuple[str, ...]:
    """The spoken red flags of the protocol the message was triaged under."""
    protocol = (triage.version_of(message.practice, message.protocol_version)
                or triage.protocol_for(message.practice))
    return protocol.spec.spoken_phrases


def save(pk: Any, heard: Heard) -> None:
    """The transcript and the re-triage, in one transaction with the row locked; a message
    transcribed meanwhile (by another worker) is left as it is."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(
            pk=pk, transcribed_at__isnull=True).first()
        if message is None:
            return
        message.transcript = heard.sealed
        message.transcribed_at, message.transcribe_due_at = timezone.now(), None
        rose = append_to_message(message, heard.texts, sealed="transcript",
                                 reason="transcript",
                                 columns=["transcribed_at", "transcribe_due_at"])
        pages.open_for(message)  # a voicemail that said a red flag pages now
        if rose and message.priority == Priority.EMERGENCY:
            number = str(message.fields.get("callback_number") or "")
            texts.advise_emergency(message.practice, message, number,
                                   key=f"emergency:voicemail:{message.pk}")


def failed(message: Message, exc: Exception) -> None:
    """Back off (durably: a restarted worker waits too), or give up after ``MAX_TRIES``."""
    tries = message.transcribe_attempts  # counted by the claim
    kind = type(exc).__name__
    pending = Message.objects.filter(pk=message.pk, transcribed_at__isnull=True)
    if tries < MAX_TRIES:
        wait = claims.backoff(tries)
        pending.update(transcribe_due_at=timezone.now() + wait)
        log.warning("message %s not transcribed (try %d, %s); again in %d s", message.pk,
                    tries, kind, wait.total_seconds())
        return
    # Given up: an empty transcript, so the worker stops; the audio stays with the message.
    log.error("message %s could not be transcribed (%s); left without a transcript",
              message.pk, kind)
    pending.update(transcribe_due_at=None, transcribed_at=timezone.now())
