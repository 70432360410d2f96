"""Voicemail transcription on this machine: real speech (Debian's flite, the "kal" voice,
which speaks at 8 kHz as a phone line does; and espeak-ng) through the real pipeline —
the IVR's webhooks, the worker's fetch, pocketsphinx — to a sealed transcript that the
red-flag detector reads."""

from __future__ import annotations

import array
import datetime as dt
import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import pytest
import time_machine
import yaml
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from clinicline import claims
from clinicline.audit.models import Action, AuditEvent
from clinicline.gateways import recordings
from clinicline.inbox.models import Message, Recording
from clinicline.intake import transcribe
from clinicline.outbox.models import Delivery
from clinicline.triage import service as triage
from clinicline.triage.engine import decide
from tests.gateways.test_webhooks import make_gateway, post, voicemail
from tests.intake.test_ivr import AFTER_HOURS, answer_call, press, record_action

pytestmark = pytest.mark.django_db

EMERGENCY_WORDS = "My chest hurts and I cannot breathe."
ROUTINE_WORDS = "Please call me back about my appointment."


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path):
    with override_settings(DATA_DIR=tmp_path):
        yield tmp_path


@pytest.fixture
def gateway(practice):
    return make_gateway(practice, test_mode=True, delete_recordings=True)


def flite(words: str) -> bytes:
    """As the simulator speaks: flite reads the words on stdin, writes a file."""
    program = shutil.which("flite")
    assert program, "flite (Debian package) is needed: `make debian`"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run([program, "-voice", "kal", "-o", str(path)], input=words.encode(),
                       capture_output=True, check=True, timeout=60)
        return path.read_bytes()


def espeak(words: str) -> bytes:
    program = shutil.which("espeak-ng")
    assert program, "espeak-ng (Debian package) is needed: `make debian`"
    return subprocess.run([program, "-v", "en-us", "-s", "130", "--stdout", words],
                          capture_output=True, check=True, timeout=60).stdout


def routine_voicemail(practice, data_dir: Path, audio: bytes, key: str = "3") -> Message:
    """After hours, the caller picks a routine call type (3: refill) and speaks ``audio``."""
    (data_dir / "simulator").mkdir(exist_ok=True)
    (data_dir / "simulator" / "vm.wav").write_bytes(audio)
    with time_machine.travel(AFTER_HOURS, tick=False):
        prompt = press(answer_call(), key)
        (record,) = prompt.iter("Record")
        url = f"loopback://{practice.slug}/vm.wav"
        assert post(record.get("recordingStatusCallback"), voicemail(url)).status_code == 200
        record_action(prompt)
    assert recordings.fetch_due() == 1
    message = Message.objects.get()
    assert message.recording.state == Recording.State.STORED and message.priority == "routine"
    return message


def reread(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


def test_a_spoken_red_flag_raises_a_routine_voicemail_to_emergency(gateway, practice,
                                                                   data_dir, caplog):
    message = routine_voicemail(practice, data_dir, flite(EMERGENCY_WORDS))

    assert transcribe.transcribe_due() == 1

    message = reread(message)
    assert message.transcribed_at is not None
    assert "chest hurts" in message.transcript and "breathe" in message.transcript
    assert message.priority == "emergency" and message.triage["raised_by"] == "transcript"
    assert message.advise_911
    assert "chest" not in caplog.text  # never logged
    touched = AuditEvent.objects.filter(object_id=str(message.pk))
    assert {(e.action, e.fields) for e in touched} >= {(Action.VIEW, "recording"),
                                                      (Action.UPDATE, "transcript")}
    assert transcribe.transcribe_due() == 0  # once


def test_the_transcript_is_sealed_in_the_database(gateway, practice, data_dir):
    message = routine_voicemail(practice, data_dir, flite(EMERGENCY_WORDS))
    transcribe.transcribe_due()
    assert "chest" in reread(message).transcript
    with connection.cursor() as cursor:
        cursor.execute("SELECT content, triage FROM inbox_message")
        stored = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert "chest" not in stored.lower() and "breathe" not in stored.lower()
    assert "appointment" not in stored.lower()


def test_routine_words_stay_routine(gateway, practice, data_dir):
    message = routine_voicemail(practice, data_dir, flite(ROUTINE_WORDS))
    transcribe.transcribe_due()
    message = reread(message)
    assert "call me back about my appointment" in message.transcript
    assert message.priority == "routine"


def test_espeak_audio_at_its_own_rate_is_transcribed(gateway, practice, data_dir):
    """espeak-ng writes 22.05 kHz: decoded at that rate, without resampling. (Its formant
    voice is poorly recognised: this checks the pipeline, not the words.)"""
    audio = espeak(ROUTINE_WORDS)
    assert transcribe.read_wav(audio).rate == 22050
    message = routine_voicemail(practice, data_dir, audio)
    assert transcribe.transcribe_due() == 1
    assert reread(message).transcribed_at is not None


def test_bad_audio_is_retried_with_backoff_then_left_without_a_transcript(
        gateway, practice, data_dir, caplog):
    message = routine_voicemail(practice, data_dir, b"RIFF this is not audio at all")
    for attempt in range(1, transcribe.MAX_TRIES + 1):
        assert transcribe.transcribe_due() == 0
        row = reread(message)
        assert row.transcribe_attempts == attempt
        assert (row.transcribed_at is None) == (attempt < transcribe.MAX_TRIES)
        if attempt < transcribe.MAX_TRIES:
            assert transcribe.claim_due(5) == []  # backing off, as a new worker would see
            wait = row.transcribe_due_at - timezone.now()
            assert claims.backoff(attempt) - dt.timedelta(seconds=30) < wait
            assert wait <= claims.backoff(attempt)
            Message.objects.filter(pk=row.pk).update(transcribe_due_at=None)
    message = reread(message)
    assert message.transcript == "" and message.priority == "routine"
    assert "could not be transcribed (AudioError)" in caplog.text


def test_a_message_without_a_stored_recording_waits(gateway, practice, data_dir):
    with time_machine.travel(AFTER_HOURS, tick=False):
        record_action(press(answer_call(), "3"))  # the action, before the recording's callback
    assert Message.objects.get().recording is None
    assert transcribe.transcribe_due() == 0


# --- the pieces ----------------------------------------------------------------------------

def wav_bytes(samples: list[int], rate: int, width: int = 2, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(width)
        audio.setframerate(rate)
        if width == 1:
            audio.writeframes(bytes(s + 128 for s in samples))
        else:
            audio.writeframes(array.array("h", samples).tobytes())
    return out.getvalue()


def test_wavs_of_any_width_and_channels_become_16_bit_mono():
    assert list(transcribe.read_wav(wav_bytes([0, 1000, -1000, 3000], 8000, channels=2))
                .samples) == [500, 1000]
    assert list(transcribe.read_wav(wav_bytes([0, 127, -128], 8000, width=1)).samples) == \
        [0, 127 << 8, -128 << 8]
    with pytest.raises(transcribe.AudioError):
        transcribe.read_wav(b"not a wav")
    with pytest.raises(transcribe.AudioError):
        transcribe.read_wav(wav_bytes([], 8000))


def test_phone_audio_is_upsampled_by_linear_interpolation():
    out = transcribe.upsample(array.array("h", [0, 100, 200, 300]), 8000)
    assert list(out) == [0, 50, 100, 150, 200, 250, 300, 300]
    same = array.array("h", [1, 2, 3])
    assert transcribe.upsample(same, 22050) is same
    assert transcribe.nfft_for(16000) == 512 and transcribe.nfft_for(22050) == 1024
    assert transcribe.nfft_for(44100) == 2048


NEGATIONS = ("no ", "not ")


def test_every_spoken_phrase_of_the_protocol_is_a_red_flag_and_every_negated_one_is_not(
        practice):
    spec = triage.protocol_for(practice).spec
    spoken = spec.spoken_phrases
    assert len(spoken) >= 20
    for phrase in spoken:
        # "no chest pain" is listed so that it is heard whole, and stays negated.
        negated = any(phrase.startswith(n) and phrase[len(n):] in spoken for n in NEGATIONS)
        assert (decide(spec, "refill", {}, [phrase]).priority == "routine") == negated, phrase


def test_every_spoken_phrase_of_the_default_protocol_can_be_listened_for(practice):
    spoken = triage.protocol_for(practice).spec.spoken_phrases
    assert transcribe.speakable(spoken) == spoken


def test_the_phrases_listened_for_are_the_protocol_in_forces(practice):
    """A practice's own protocol decides what a voicemail is listened for."""
    document = triage.protocol_for(practice).document
    flags = [dict(f, spoken=["chest pain"] if f["id"] == "chest-pain" else [])
             for f in document["red_flags"]]
    triage.import_protocol(practice, yaml.safe_dump({**document, "red_flags": flags}))
    assert triage.protocol_for(practice).spec.spoken_phrases == ("chest pain",)


def test_a_phrase_inside_a_longer_spotted_one_is_dropped():
    class Segment:
        def __init__(self, word: str, start: int, end: int) -> None:
            self.word, self.start_frame, self.end_frame = word, start, end

    class Spotter:
        def seg(self) -> list[Segment]:
            return [Segment("chest pain ", 12, 40), Segment("no chest pain ", 5, 40),
                    Segment("passed out ", 60, 80)]

    assert transcribe.spotted(Spotter()) == ["no chest pain", "passed out"]
    heard = transcribe.Heard("", ["no chest pain", "passed out"])
    assert heard.texts[1] == "no chest pain. passed out"


def test_a_voicemail_that_turns_out_an_emergency_texts_the_caller_the_advice(
        gateway, practice, data_dir):
    """The caller has hung up before the transcript is read: the protocol's advice goes by
    text to the number they called from, once."""
    message = routine_voicemail(practice, data_dir, flite(EMERGENCY_WORDS))
    transcribe.transcribe_due()
    message = reread(message)
    assert message.priority == "emergency"
    (advice,) = Delivery.objects.filter(purpose="emergency-advice")
    assert advice.body.startswith("Please call 911 now.")
    assert advice.body in message.triage["said"]
    assert "chest" not in advice.body  # nothing of what they said
